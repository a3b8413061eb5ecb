"""/settings/images: a member sees which of their images still lack a description, and adds them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..runtime import Runtime
from ..services.image_descriptions import describe_images, undescribed_images
from ..services.uploads import MAX_ALT
from .forms import field, text_field
from .gate import member_of
from .render import Renderer
from .security import WebSecurity

__all__ = ["MAX_ITEMS", "ImageDescriptionPages"]

MAX_ITEMS = 500  # descriptions read from one form


class ImageDescriptionPages:
    """GET: the member's images without a description, each with a field; POST: save those filled in."""

    def __init__(self, rt: Runtime, render: Renderer, security: WebSecurity) -> None:
        self.rt = rt
        self.render = render
        self.security = security

    async def page(self, request: Request) -> Response:
        """The list, or (POST) the descriptions saved and the list of what is still missing."""
        member = member_of(request)
        saved = None
        if request.method == "POST":
            form = await self.security.form(request)
            descriptions = {}
            for i in range(MAX_ITEMS):
                key = field(form, f"key_{i}", 4000)
                if not key:
                    break
                descriptions[key] = text_field(form, f"alt_{i}", MAX_ALT + 100)
            saved = await describe_images(self.rt, member, descriptions)
        items = await undescribed_images(self.rt, member)
        return await self.render.page(
            request, "settings_images.html", items=items[:MAX_ITEMS], total=len(items), saved=saved, max_alt=MAX_ALT
        )
