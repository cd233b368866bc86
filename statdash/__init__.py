"""statdash: a real-time terminal dashboard for contact-center supervisors."""

__version__ = "0.1.0"
