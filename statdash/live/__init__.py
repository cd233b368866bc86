"""The live session, no Textual here.

The data path: `controller` (one store, one session at a time, its listeners), `session`
(subscribe, poll, delete on the way out), `push_feed` (the CometD channel), `store`,
`derived` (formulas), `waking`. Its features, each a room that the data path never imports
and that import none of each other: `alerts/`, `recordings/`, `subscriptions/`. `wiring`
hands the features to the data path, once for every command.
"""
