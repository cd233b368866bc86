"""The one place for test helpers: waiting (`wait`), simulators (`sim`), a pty driver (`pty`)."""
