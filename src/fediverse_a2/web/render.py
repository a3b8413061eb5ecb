"""Jinja2 templates, with the interface language chosen per request."""

from __future__ import annotations

from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..i18n import choose_language, format_date, translate
from ..runtime import Runtime

__all__ = ["Renderer"]


class Renderer:
    """Renders HTML pages; one per app, built once."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("fediverse_a2.web", "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def language(self, request: Request) -> str:
        """The page language: ?lang=, then Accept-Language, then the instance default."""
        return choose_language(
            request.query_params.get("lang"),
            request.headers.get("accept-language"),
            self.rt.config.instance.language,
        )

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """Render a template into an HTML response."""
        lang = self.language(request)
        tz = self.rt.tz

        def t(key: str, **values: str) -> str:
            return translate(lang, key, **values)

        def date(ts: float) -> str:
            return format_date(ts, lang, tz)

        html = self.env.get_template(template).render(
            t=t,
            date=date,
            lang=lang,
            instance=self.rt.config.instance,
            urls=self.rt.urls,
            path=request.url.path,
            **context,
        )
        return HTMLResponse(html, status_code=status, headers={"Vary": "Accept, Accept-Language"})
