"""Google Calendar over its real client library (google-api-python-client): the API calls,
the OAuth web flow, and the sync runner of the daemon (K2, G2)."""
