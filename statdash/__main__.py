"""`python -m statdash` runs the same command line as the `statdash` script."""

from statdash.cli import main

raise SystemExit(main())
