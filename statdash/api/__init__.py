"""The Statistics API v3 client: models, value parsing, errors, auth and the async client.

`client.StatisticsClient` is the entry point; `responses` reads answers, `auth` adds
credentials, `errors` is the exception tree, `retry` says which failures to try again and
when, `values` reads `value` objects. `settings` finds the server and credentials (flags,
environment, config file) and `connect` turns them into a client.
"""
