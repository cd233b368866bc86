"""`statdash replay FILE`: a recording through the same dashboard, with no connection at all."""

from __future__ import annotations

import argparse
import asyncio

from statdash.commands.run import theme_problem
from statdash.commands.voice import EXIT_USAGE, Refused, Voice
from statdash.live.recordings.file import Recording, RecordingError
from statdash.live.recordings.replay import MAX_SPEED, SPEEDS, moment_of_day

# Textual is imported in `run`, once the file is known to be a good recording.

VOICE = Voice("replay")


def run(args: argparse.Namespace) -> int:
    """Check the file and the flags, then replay until the user quits."""
    problem = theme_problem(args.theme)
    if problem is not None:
        raise Refused(problem)
    if not SPEEDS[0] <= args.speed <= MAX_SPEED:
        raise Refused(f"--speed must be between {SPEEDS[0]:g} and {MAX_SPEED:g}")
    try:
        recording = Recording(args.file)
    except RecordingError as error:
        raise Refused(str(error)) from None
    with recording:
        try:
            recording.layout  # noqa: B018 - read (and checked) before the screen starts
            if recording.tick_count == 0:
                raise Refused(f"{args.file}: the recording holds no values yet")
            at = None
            if args.at is not None:
                at = moment_of_day(args.at, recording.start, recording.end)
        except (RecordingError, ValueError) as error:
            raise Refused(str(error)) from None
        if recording.cut_short is not None:
            # Said before the screen starts, so it is still there when the replay ends.
            VOICE.say(recording.cut_short)
        from statdash.ui.launch import run_replay

        try:
            return asyncio.run(run_replay(recording, speed=args.speed, at=at, theme=args.theme))
        except RecordingError as error:
            # The file went bad while playing: said like a refusal, one line, exit 2.
            return VOICE.fail(str(error), EXIT_USAGE)
