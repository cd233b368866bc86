"""The commands behind `statdash run`, `demo`, `peek`, `snapshot` and `cleanup`."""
