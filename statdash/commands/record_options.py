"""The recording flags read back (their arguments are `statdash.commands.arguments.recording`):
their problems, and the recorder they ask for."""

from __future__ import annotations

import argparse

from statdash.commands.voice import Refused
from statdash.layout.views import CompiledLayout
from statdash.live.recordings.recorder import DailyRecorder, Recorder, RecorderError


def record_problem(args: argparse.Namespace) -> str | None:
    """Why the recording flags cannot be used, or None (checked before the screen starts)."""
    if args.keep_days <= 0:
        return "--keep-days must be more than 0"
    given = args.record if args.record is not None else args.record_dir
    try:
        if args.record is not None and args.record.exists():
            return f"{args.record}: the file exists; give --record a new file"
        if (
            args.record_dir is not None
            and args.record_dir.exists()
            and not args.record_dir.is_dir()
        ):
            return f"{args.record_dir}: not a directory"
    except OSError as error:
        # exists() fails in a directory the user cannot enter: one line, not a traceback.
        return f"{given}: cannot record there ({error.strerror or error})"
    return None


def make_recorder(
    args: argparse.Namespace, layout: CompiledLayout, server: str
) -> Recorder | DailyRecorder | None:
    """The recorder the flags ask for (None without them); Refused when it cannot be.

    `server` is the name shown for the server (never a credential): it goes into the file.
    """
    try:
        if args.record is not None:
            return Recorder(args.record, layout, server=server)
        if args.record_dir is not None:
            try:
                args.record_dir.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise Refused(
                    f"{args.record_dir}: cannot create it ({error.strerror or error})"
                ) from None
            return DailyRecorder(args.record_dir, layout, server=server, keep_days=args.keep_days)
    except RecorderError as error:
        raise Refused(str(error)) from None
    return None
