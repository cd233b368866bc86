"""The browser front of `statdash serve`: a key-checked web server, one dashboard per viewer."""
