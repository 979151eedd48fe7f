"""The resellers' console: server-rendered pages on the API's Falcon app (pages.py)."""
