"""Opening a file the user named, only if it is a regular file, and never blocking on a FIFO.

A layout, an object list, a config file or an alert log named by the user may turn out to be a
FIFO (named pipe), a socket or a device. Opening a FIFO blocks until another process opens its
other end, so a plain `open()` would hang `statdash check` for ever (and a hot reload's thread
would keep the process alive after `q`). Here the path is looked at first (a clear message
naming what it is), and then opened with O_NONBLOCK and checked again on the open descriptor,
so a file swapped for a FIFO between the look and the open is refused just the same.

It sits at the bottom of the package, below `api`: the config file (`api.settings`), the
layout (`layout.files`) and the alert log (`live.alerts`) all open files this one way.
"""

from __future__ import annotations

import errno
import os
import stat

# O_NONBLOCK and O_CLOEXEC are POSIX's; elsewhere (Windows) there are no FIFOs to open.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class NotRegularFile(Exception):
    """The path names something other than a regular file; `kind` says what it is."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(f"it is {kind}, not a regular file")


def kind_of(mode: int) -> str | None:
    """What a file of `mode` is (`a FIFO (named pipe)`), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def require_regular(path: str | os.PathLike[str]) -> os.stat_result:
    """The stat of `path` (symbolic links followed); NotRegularFile unless a regular file.

    OSError (missing, permission denied) passes through for the caller to word.
    """
    info = os.stat(path)
    kind = kind_of(info.st_mode)
    if kind is not None:
        raise NotRegularFile(kind)
    return info


def open_regular(path: str | os.PathLike[str], flags: int, mode: int = 0o666) -> int:
    """`os.open(path, flags)` for a regular file only: its descriptor, in blocking mode.

    NotRegularFile for anything else, found before opening when the path exists, and on the
    open descriptor in case it was swapped meanwhile; OSError as os.open raises it.
    """
    try:
        require_regular(path)
    except FileNotFoundError:
        if not flags & os.O_CREAT:
            raise
    try:
        # O_NONBLOCK: opening a FIFO returns at once (reading) or fails with ENXIO (writing
        # with no reader) instead of waiting for the other end.
        descriptor = os.open(path, flags | _NONBLOCK | _CLOEXEC, mode)
    except OSError as error:
        if error.errno == errno.ENXIO:
            raise NotRegularFile(kind_of(stat.S_IFIFO) or "") from None
        raise
    try:
        kind = kind_of(os.fstat(descriptor).st_mode)
        if kind is not None:
            raise NotRegularFile(kind)
        if _NONBLOCK:
            # A regular file ignores O_NONBLOCK; cleared so the stream behaves as any other.
            os.set_blocking(descriptor, True)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor
