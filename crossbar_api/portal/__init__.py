"""The payments page for account admins: server-rendered (Jinja2, no build step), in English
and Russian, on the same store and handlers as the API."""
