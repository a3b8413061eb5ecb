"""Fedify interop tests (a package so its conftest never shadows tests/conftest.py)."""
