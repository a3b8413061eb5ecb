"""PURE: the backup archive format (manifest.py) and its safe writing and reading (tarball.py)."""
