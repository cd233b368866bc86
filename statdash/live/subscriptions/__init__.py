"""Subscription bookkeeping: records of what is open (so a killed run can be cleaned up),
deleting what an earlier run left behind, and one-shot reads (`snapshot`, `check`)."""
