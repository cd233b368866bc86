"""The Statistics API v3 client: models, value parsing, errors, auth and the async client."""
