"""The Mastodon client API (`/api/v1/…`, `/api/v2/…`) and the OAuth endpoints apps call.

Same layer as web/: it uses services/ and store/, and is declared in `routes.py`, one line
per endpoint (see frame.py for what every endpoint gets).
"""
