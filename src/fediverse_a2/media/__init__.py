"""Images members upload: re-encoded (never served as uploaded), limited, stored by content hash."""
