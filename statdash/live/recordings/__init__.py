"""Recordings, a feature on the data path: the recording file (SQLite), the recorder that
listens to the controller, and replay, which feeds a store from a file."""
