"""PURE: the errors of JSON-LD normalisation (all ValueErrors, so an inbox answers 4xx)."""

from __future__ import annotations

__all__ = ["ContextNotBundled", "JsonLdBudgetExceeded", "NormaliseError"]


class NormaliseError(ValueError):
    """The document could not be normalised (invalid JSON-LD, too expensive, ...)."""


class ContextNotBundled(NormaliseError):
    """A ``@context`` URL outside the bundle, asked of `contexts.bundled_context`.

    `normalise` no longer raises it: an unknown context is answered as an empty one.
    """

    def __init__(self, url: str) -> None:
        super().__init__(f"JSON-LD context is not bundled and will not be fetched: {url[:300]}")
        self.url = url


class JsonLdBudgetExceeded(NormaliseError):
    """The document is too large, or took pyld longer than its time budget."""
