"""The hub: each statistic opened once upstream, its values fanned out to dashboards over NATS.

`protocol` is the wire on NATS (subjects, messages, keys), `natsd` starts a local nats-server,
`connection` opens a NATS connection from the settings, `client` is the dashboard's side (a
session client and a push channel, so the live controller treats the hub as one more
source), `collector` is the hub itself.
"""
