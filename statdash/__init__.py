"""statdash: a real-time terminal dashboard for contact-center supervisors."""

import sys

__version__ = "0.1.0"

# httpx's package imports its command-line client (httpx._main, and with it click, pygments
# and rich's progress bars and syntax highlighting: ~35 ms of every start that talks to a
# server) whenever those are installed, as they are beside Textual and uvicorn. statdash
# never runs that client; a module marked absent makes httpx keep its stand-in `main`, which
# says the client's extras are missing. Here, because every statdash module imports this
# package before it can import httpx.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
