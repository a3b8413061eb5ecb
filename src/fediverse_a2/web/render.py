"""Jinja2 templates, with the interface language chosen per request and the signed-in member at hand.

The language: `?lang=` (which then sticks, in a cookie), else that cookie, else the browser's
Accept-Language, else the instance's default. Templates escape everything by default.

Each language has its own Jinja2 environment with the i18n extension, its gettext callables bound
to that language's catalog: `t('key', name=...)`, `_()` and `gettext()` are one function,
`ngettext('key', 'key', count)` picks a plural form. The catalogs' placeholders are `{name}`
(str.format), so the callables are installed old-style (Jinja's newstyle gettext
would apply `%` formatting); `{% trans %}` blocks are not used.
"""

from __future__ import annotations

from typing import Any, cast

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..activitypub.build import iso
from ..errors import UserError
from ..html_images import with_alt
from ..i18n import LANGUAGES, choose_language, format_date, format_number, format_span, has_text, translate
from ..runtime import Runtime
from ..services.media_proxy import ProxyLinks
from ..store import notifications, site_pages
from .links import Links, normal_path
from .security import WebSecurity

__all__ = ["LANG_COOKIE", "Renderer", "template_environment"]

LANG_COOKIE = "a2_lang"
_YEAR = 365 * 86400


def template_environment(loader: jinja2.BaseLoader, language: str) -> jinja2.Environment:
    """The templates' environment for one language: gettext callables on its catalog, numbers by Babel."""
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Stored HTML whose images may lack an alt (imported before descriptions were kept).
    env.filters["with_alt"] = with_alt
    env.filters["number"] = lambda n: format_number(n, language)

    def gettext(key: str, **values: str | int) -> str:
        return translate(language, key, **values)

    def ngettext(singular: str, plural: str, n: int, **values: str | int) -> str:
        return translate(language, singular, **values, n=n)

    cast(Any, env).install_gettext_callables(gettext, ngettext, newstyle=False)
    env.globals["t"] = gettext
    return env


class Renderer:
    """Renders HTML pages; one per app, built once."""

    def __init__(self, rt: Runtime, security: WebSecurity, links: Links) -> None:
        self.rt = rt
        self.security = security
        self.links = links
        loader = jinja2.PackageLoader("fediverse_a2.web", "templates")
        self.envs = {language: template_environment(loader, language) for language in LANGUAGES}
        # Remote images only ever through the media proxy: readers never contact another host.
        proxy = ProxyLinks(rt)
        for env in self.envs.values():
            env.filters["proxied"] = proxy.link
            env.filters["with_alt"] = proxy.stored_html
            env.filters["proxied_avatar"] = proxy.avatar

    def language(self, request: Request) -> str:
        """The page language: ?lang=, then the language cookie, then Accept-Language, then the default."""
        return choose_language(
            request.query_params.get("lang") or request.cookies.get(LANG_COOKIE),
            request.headers.get("accept-language"),
            self.rt.config.instance.language,
        )

    def text(self, request: Request, key: str, **values: str | int) -> str:
        """One interface text in the request's language."""
        return translate(self.language(request), key, **values)

    def error_text(self, request: Request, exc: UserError) -> str:
        """A refusal in the visitor's language: its own text, else (in English) as the service said
        it, else a general refusal: a Dutch page never shows the service's English."""
        language = self.language(request)
        if exc.key is not None and has_text(exc.key):
            return translate(language, exc.key, **exc.values)
        return str(exc) if language == "en" else translate(language, "refused_text")

    async def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """Render a template into an HTML response."""
        lang = self.language(request)
        tz = self.rt.tz
        member = await self.security.member(request)
        # The header's count of unread notifications: one indexed count per page of a signed-in member.
        unread = await notifications.unread_count(self.rt.db, member.id) if member is not None else 0

        def date(ts: float) -> str:
            return format_date(ts, lang, tz)

        def span(start: float, end: float | None) -> str:
            return format_span(start, end, lang, tz)

        def csrf() -> str:
            return self.security.csrf_for(request)

        def here(**changes: str | int | None) -> str:
            # This page on this site (base_url + normalised path), e.g. in another language.
            return self.links.here(request, **changes)

        env = self.envs[lang]
        html = env.get_template(template).render(
            date=date,
            span=span,
            iso=iso,
            csrf=csrf,
            lang=lang,
            me=member,
            instance=self.rt.config.instance,
            urls=self.rt.urls,
            path=normal_path(request.scope["path"]),
            here=here,
            canonical=self.links.here(request, lang=None) if status == 200 else None,
            unread=unread,
            site_links=await site_pages.links(self.rt.db),  # the footer's pages of the site
            **context,
        )
        response = HTMLResponse(html, status_code=status, headers={"Vary": "Accept, Accept-Language, Cookie"})
        if member is not None:
            response.headers["Cache-Control"] = "private, no-store"
        chosen = request.query_params.get("lang")
        if chosen in LANGUAGES and chosen != request.cookies.get(LANG_COOKIE):
            response.set_cookie(LANG_COOKIE, chosen, max_age=_YEAR, path="/", samesite="lax")
        self.security.finish(request, response)
        return response
