"""A lived-in community for the browser tests and the README's screenshots.

`populate(server)` fills a running instance through the services, as members would have: people
with avatars and profile fields (organisation, function), posts with images, a long word and a
long URL, a content warning, comments, topic groups with posts, an event next week, a membership
request, a blocked domain, and one imported post whose inline image has no description yet.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import time
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from fediverse_a2.services.accounts import set_password
from fediverse_a2.services.events import EventDraft, answer, save_event
from fediverse_a2.services.groups import add_group
from fediverse_a2.services.members import add_member
from fediverse_a2.services.membership import request_membership
from fediverse_a2.services.moderation import set_domain
from fediverse_a2.services.posts import Draft, save_post
from fediverse_a2.services.profile import update_profile
from fediverse_a2.services.social import comment
from fediverse_a2.services.uploads import store_image
from fediverse_a2.store import posts, search
from helpers import LiveServer

__all__ = ["LONG_URL", "LONG_WORD", "PASSWORD", "Demo", "picture", "populate"]

PASSWORD = "correct horse battery"
LONG_WORD = "Informatiehuishoudingsverbeteringsprogrammaondersteuningsdocumentatiebeheersysteem"
LONG_URL = "https://data.overheid.nl/dataset/" + "gemeentelijke-open-data-over-afvalinzameling-" * 4 + "2024.csv"

# (username, name, role, organisation, function, colour of the avatar)
PEOPLE = [
    ("alice", "Alice de Vries", "admin", "Gemeente Utrecht", "Informatieadviseur", (0xD6, 0x4E, 0x3B)),
    ("bob", "Bob Jansen", "moderator", "Ministerie van BZK", "Beleidsmedewerker open overheid", (0x2E, 0x8B, 0x57)),
    ("chris", "Chris Bakker", "member", "Provincie Gelderland", "Datasteward", (0x6A, 0x4C, 0x9C)),
    ("dewi", "Dewi Pranoto", "member", "Gemeente Amsterdam", "Programmamanager digitalisering", None),
    ("emre", "Emre Yilmaz", "member", "Rijkswaterstaat", "Adviseur informatievoorziening", (0xC2, 0x7C, 0x0E)),
    ("fleur", "Fleur van den Berg", "member", "Gemeente Súdwest-Fryslân", "Communicatieadviseur", None),
]


@dataclass
class Demo:
    """What `populate` made: post URLs by name, and the ids a test needs."""

    posts: dict[str, str] = field(default_factory=dict)
    comment_urls: list[str] = field(default_factory=list)
    imported_post_id: int = 0
    event_id: int = 0
    group: str = "opendata"


def picture(size: tuple[int, int], seed: int = 0) -> bytes:
    """A JPEG that looks like something (a chart on a soft background), different per seed."""
    width, height = size
    image = Image.new("RGB", size, (232, 240, 248))
    draw = ImageDraw.Draw(image)
    for y in range(height):  # a soft vertical gradient
        shade = int(20 * y / height)
        draw.line([(0, y), (width, y)], fill=(225 - shade, 236 - shade, 246 - shade // 2))
    bars = 7
    gap = width // (bars * 3)
    bar = (width - gap * (bars + 1)) // bars
    for i in range(bars):
        value = 0.35 + 0.5 * abs(math.sin(seed * 1.7 + i * 0.9))
        top = int(height * (1 - value * 0.8))
        x = gap + i * (bar + gap)
        colour = (21, 66, 115) if i != (seed % bars) else (225, 112, 0)
        draw.rectangle([x, top, x + bar, height - gap], fill=colour)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def portrait(colour: tuple[int, int, int]) -> bytes:
    """A simple avatar: a head and shoulders on a coloured disc."""
    image = Image.new("RGB", (256, 256), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse([88, 48, 168, 128], fill=(245, 222, 200))
    draw.ellipse([48, 140, 208, 300], fill=(250, 250, 250))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def populate(server: LiveServer) -> Demo:
    """Fill the instance with members, groups, posts and comments (see the module docstring)."""
    rt = server.rt
    demo = Demo()
    people = {}
    for username, name, role, organisation, function, colour in PEOPLE:
        member = await add_member(rt, username, name, email=f"{username}@example.nl", role=role)
        await set_password(rt, member, PASSWORD)
        avatar_id = (await store_image(rt, member, portrait(colour), "", avatar=True)).id if colour else None
        member = await update_profile(
            rt, member, name=name, summary=f"{function} bij {organisation}.",
            fields=[("Organisatie", organisation), ("Functie", function)], avatar_id=avatar_id,
        )  # fmt: skip
        people[username] = member
    await add_group(rt, "opendata", "Open data", summary="Over het openen en gebruiken van overheidsdata.")
    await add_group(rt, "digitaal", "Digitale overheid", summary="Dienstverlening, standaarden en toegankelijkheid.")

    async def write(username: str, title: str, body: str, *, image: int | None = None, **extra: str) -> str:
        member = people[username]
        media_ids = []
        if image is not None:
            stored = await store_image(rt, member, picture((960, 600), image), f"Staafdiagram {image + 1}")
            media_ids.append(stored.id)
        draft = Draft(title, body, media_ids=media_ids, **extra)
        post = await save_post(rt, member, draft, publish=True)
        return rt.urls.post(post.id)

    demo.posts["open_data"] = await write(
        "alice", "Open data in de gemeente: wat werkt echt?",
        "Drie jaar na de start van ons open-dataprogramma delen we wat werkte en wat niet.\n\n"
        "## Wat werkte\n\n- Beginnen met data die burgers al opvroegen\n- Eén vaste plek voor alle datasets\n\n"
        "Reacties en eigen ervaringen zijn welkom!",
        image=0, tags="OpenData Gemeenten", group="opendata",
    )  # fmt: skip
    demo.posts["long"] = await write(
        "bob", f"Over het {LONG_WORD}",
        f"Een lang woord en een lange link horen gewoon af te breken: {LONG_URL}\n\n"
        f"De volledige dataset staat op [{LONG_URL}]({LONG_URL}).",
        image=1, tags="Archief",
    )  # fmt: skip
    demo.posts["cw"] = await write(
        "chris", "Evaluatie van het datalek-protocol",
        "Wat we leerden van de oefening met het datalek-protocol, stap voor stap.",
        summary="Gaat over een (geoefend) datalek", tags="Privacy",
    )  # fmt: skip
    demo.posts["digitaal"] = await write(
        "emre", "Toegankelijkheid is geen vinkje",
        "Elke overheidswebsite moet voldoen aan WCAG 2.1 AA. Hoe maak je dat onderdeel van het werk "
        "in plaats van een controle achteraf?",
        image=2, group="digitaal",
    )  # fmt: skip
    demo.posts["short"] = await write("dewi", "Wie komt er naar de Dag van de Digitale Overheid?", "Ik ben er!")

    # An imported post (as `import page` stores one): an inline image without a description.
    alice = people["alice"]
    stored = await store_image(rt, alice, picture((800, 500), 3), "")
    src = rt.urls.media(stored.file_name)
    html = f'<p>Een foto van de eerste bijeenkomst in 2009.</p><p><img src="{src}" width="800" height="500"></p>'
    async with rt.db.transaction() as tx:
        title = "Terugblik op de eerste bijeenkomst"
        demo.imported_post_id = await posts.create(tx, alice.id, title, html, html, source="page")
        await search.index_posts(tx, [demo.imported_post_id])

    directory = server.workers.directory
    for username, post, body in [
        ("bob", "open_data", "Herkenbaar! Bij ons werkte de vaste plek voor datasets ook het best."),
        ("chris", "open_data", "Hoe hielden jullie de datasets actueel? Dat is bij ons het lastigste."),
        ("alice", "long", "Mooi voorbeeld van een lange link die netjes afbreekt."),
        ("fleur", "digitaal", "Helemaal mee eens. Toegankelijkheid begint bij het ontwerp."),
    ]:
        demo.comment_urls.append(await comment(rt, directory, username, demo.posts[post], body))
    # An event next week, with an answer.
    start = dt.datetime.fromtimestamp(time.time() + 7 * 86400, rt.tz).replace(hour=10, minute=0)
    event = await save_event(
        rt, people["alice"],
        EventDraft("Dag van de open data", f"{start:%Y-%m-%dT%H:%M}", f"{start.replace(hour=16):%Y-%m-%dT%H:%M}",
                   "Een dag over open data in de praktijk.", "Stadhuis Utrecht", "Stadsplateau 1, Utrecht"),
    )  # fmt: skip
    await answer(rt, people["bob"], event, "going")
    demo.event_id = event.id
    await set_domain(rt, "block", "spam.example", by="alice")
    await request_membership(
        rt, "Gijs Smit", "gijs@example.nl", "Waterschap Rivierenland", "Ik werk aan open data bij het waterschap."
    )
    return demo
