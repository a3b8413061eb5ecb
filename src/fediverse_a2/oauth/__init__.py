"""PURE rules of the client API's OAuth 2: Mastodon's scopes, and which redirect URIs an app may register."""
