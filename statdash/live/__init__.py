"""The live session: subscribe, poll, store values, delete on the way out. No Textual here."""
