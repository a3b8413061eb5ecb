"""fediverse-a2: a small self-hosted ActivityPub service for the Ambtenaar 2.0 network."""

__version__ = "0.1.0"
