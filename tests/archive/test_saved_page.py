"""Pages of the old site saved as text or HTML: title, body, views, comments in UTC, chrome left out."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fediverse_a2.archive.dutch_dates import match_byline, match_comment_header, match_views, parse_dutch_datetime
from fediverse_a2.archive.saved_page import decode_page, looks_like_html, parse_saved_page, read_saved_page
from helpers import FIXTURES

TEXT_FIXTURE = FIXTURES / "archive" / "ambtenaar20-blogpost.txt"  # a copy of ../shared/fixtures
HTML_FIXTURE = FIXTURES / "archive" / "ambtenaar20-blogpost.html"
CHROME = ["Weergaven", "Je moet lid zijn", "Word lid van", "Opmerking", "Gemaakt door", "Verzorgd door",
          "samen werken aan overheid", "Reactie van", "Algemene voorwaarden", "©"]  # fmt: skip


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()  # type: ignore[misc]


def paragraphs(html: str) -> list[str]:
    return re.findall(r"<p>(.*?)</p>", html)


# -- the text fixture (a page saved from the old site) ----------------------------------------


@pytest.fixture(scope="module")
def text_page():  # type: ignore[no-untyped-def]
    return read_saved_page(TEXT_FIXTURE)


def test_text_fixture_title_views_and_what_it_does_not_say(text_page) -> None:  # type: ignore[no-untyped-def]
    assert text_page.title == "Programma Ambtenaar 2.0 stopt. Netwerk gaat door."
    assert text_page.views == 808
    # The saved text names no author, no date and no address of the original ("Gemaakt door
    # Dirk Jan van der Wal" is the footer's credit for the site, not the post's author).
    assert (text_page.author_name, text_page.published, text_page.old_url) == (None, None, None)


def test_text_fixture_comments_with_their_authors_and_utc_times(text_page) -> None:  # type: ignore[no-untyped-def]
    # On the page, newest first, in Amsterdam winter time (CET, UTC+1); returned oldest first, in UTC.
    assert [(c.author_name, c.published) for c in text_page.comments] == [
        ("Henny van Doorn", utc(2013, 12, 16, 13, 34)),
        ("Wilbert Schermer Voest", utc(2013, 12, 18, 16, 10)),
        ("GJA van de Bovenkamp", utc(2014, 2, 20, 14, 13)),
        ("GJA van de Bovenkamp", utc(2014, 2, 20, 14, 16)),
    ]


def test_text_fixture_comment_bodies(text_page) -> None:  # type: ignore[no-untyped-def]
    henny, wilbert, gja_first, gja_second = text_page.comments
    assert henny.body_html == (
        "<p>Marie Louise, ik heb nog geen uitsluitsel gekregen of ik de workshop Programma Samenwerkend Verbinden "
        "kan geven, een nieuwe implementatie methode voor het invoeren van web2.0 binnen de organisatie. Ik begrijp "
        "uit jouw blog dat 7 februari wel doorgaat. (h.vandoorn@documa.nl of @hennyvandoorn)</p>"
    )
    assert wilbert.body_html.startswith("<p>Om Pleio nu een succesverhaal te noemen is wel (heel) erg overdreven.")
    assert wilbert.body_html.endswith("Het is echt de hoogste tijd geworden voor een nieuwe aanpak !</p>")
    assert paragraphs(gja_first.body_html) == [
        "Jammer dat kennlijk ook binnen de rijksoverheid de Anglo-Amerikaanse managementlogica, de maatschappelijk "
        "waarde van dit programma niet beloond heeft.",
        "Als aanbeveling voor het vervolg een paar aanbevelingen voor een Rijlandse organisatie:",
        "* ontwikkel een colelctieve ambitie met elkaar;",
        "* versterk wat al sterk is;",
        "*groei van binneuit;",
        "* groei op eigen kracht",
        "*geef absolute prioriteit aan continuïteit.",
        "etc.",
        "Uit het Rijlands praktijkboekje.",
    ]
    assert gja_second.body_html == (
        "<p>Hopelijk komt bij het rijk de liefde voor het geld niet voor de liefde van het vak op de werkvloer"
        " \u263a</p>"
    )
    for c in text_page.comments:
        assert not any(chrome in c.body_html for chrome in CHROME)


def test_text_fixture_body_keeps_its_paragraphs_and_drops_the_chrome(text_page) -> None:  # type: ignore[no-untyped-def]
    body = paragraphs(text_page.body_html)
    assert len(body) == 10 and "".join(f"<p>{p}</p>" for p in body) == text_page.body_html
    assert body[0].startswith("Het voortbestaan van Ambtenaar 2.0, het overheidsbrede innovatieprogramma")
    assert body[1] == "Zes jaar vernieuwing" and body[4] == "Resultaten" and body[7] == "Vervolg"
    assert body[-1].endswith("verliest de overheid een belangrijke verbinder en pleitbezorger voor vernieuwing.")
    assert "zo&#x27;n" not in text_page.body_html and "zo'n 10.000 ambtenaren ideeën" in body[2]
    assert not any(chrome in text_page.body_html for chrome in CHROME)
    assert "Programma Ambtenaar 2.0 stopt" not in text_page.body_html  # the title is not repeated in the body


def test_text_fixture_with_windows_line_ends_reads_the_same(text_page) -> None:  # type: ignore[no-untyped-def]
    crlf = TEXT_FIXTURE.read_text(encoding="utf-8").replace("\n", "\r\n")
    assert parse_saved_page(crlf) == text_page


# -- Dutch dates, times and lines ------------------------------------------------------------


@pytest.mark.parametrize("month", ["Februari", "februari", "FEBRUARI", "feb", "Feb."])
@pytest.mark.parametrize("time", ["15.16", "15:16"])
def test_dutch_month_names_in_any_case_and_both_time_styles(month: str, time: str) -> None:
    assert parse_dutch_datetime(f"20 {month} 2014 op {time}") == utc(2014, 2, 20, 14, 16)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14 juli 2013 op 9.05", utc(2013, 7, 14, 7, 5)),  # summer: CEST, UTC+2
        ("20 februari 2014 op 15.16", utc(2014, 2, 20, 14, 16)),  # winter: CET, UTC+1
        ("30 maart 2014 op 1.59", utc(2014, 3, 30, 0, 59)),  # just before the clocks go forward
        ("30 maart 2014 op 3.01", utc(2014, 3, 30, 1, 1)),  # just after
        ("30 maart 2014 op 2.30", utc(2014, 3, 30, 1, 30)),  # does not exist: read with the winter offset
        ("27 oktober 2013 op 2.30", utc(2013, 10, 27, 0, 30)),  # happens twice: the first (summer) one
        ("27 oktober 2013 op 3.30", utc(2013, 10, 27, 2, 30)),
        ("1 mei 2012", utc(2012, 4, 30, 22, 0)),
        ("5 mrt 2012 om 10:00", utc(2012, 3, 5, 9, 0)),
    ],
)
def test_amsterdam_times_to_utc_across_dst(text: str, expected: float) -> None:
    assert parse_dutch_datetime(text) == expected


@pytest.mark.parametrize("text", ["31 februari 2014 op 10.00", "20 Flop 2014 op 15.16", "20 februari 2014 op 25.00"])
def test_impossible_dates_are_not_dates(text: str) -> None:
    assert parse_dutch_datetime(text) is None


def test_header_byline_and_view_lines() -> None:
    assert match_comment_header("Reactie van Jan op den Akker op 20 Februari 2014 op 15.16") == (
        "Jan op den Akker",
        utc(2014, 2, 20, 14, 16),
    )
    assert match_comment_header("reactie van  Zoë\u00a0de Wit op 1 JANUARI 2014 op 0.05") == (
        "Zoë de Wit",
        utc(2013, 12, 31, 23, 5),
    )
    assert match_comment_header("Reactie van X op 31 februari 2014 op 10.00") is None
    assert match_comment_header("Een reactie van X op 20 februari 2014 op 10.00") is None
    assert match_byline("Geplaatst door Marie Louise Borsje op 12 December 2013 om 09:30") == (
        "Marie Louise Borsje",
        utc(2013, 12, 12, 8, 30),
    )
    assert [match_views(v) for v in ("Weergaven: 808", "weergaven:1.234", "Weergaven: 12.34", "Weergaven")] == [
        808, 1234, None, None,
    ]  # fmt: skip


# -- text pages beyond the fixture -----------------------------------------------------------

SYNTHETIC = """Ambtenaar 2.0

samen werken aan overheid 2.0

Hoofdpagina

Bron: https://ambtenaar20.ning.com/profiles/blogs/een-blog-met-alles

Een blog met alles

Geplaatst door Jan op den Akker op 12 december 2013 op 10.00

Eerste regel
tweede regel van dezelfde alinea.

Over de algemene voorwaarden van de gemeente & <script> in tekst.

Weergaven: 1.234

Opmerking

Reactie van Zoë de Wit op 12 december 2013 op 12.00

Gelijk!

Verwijderen

Reactie van Henk op 12 december 2013 op 12.00

Ook gelijk, maar eerder geschreven.

Reactie van Jan op den Akker op 12 december 2013 op 11.00

Eerste reactie.

\u2039 Vorige 1 2 Volgende \u203a

Je moet lid zijn van Ambtenaar 2.0 om reacties te kunnen toevoegen!

Word lid van Ambtenaar 2.0

© 2018 Gemaakt door Dirk Jan van der Wal.
"""


def test_text_page_with_byline_address_and_ties() -> None:
    page = parse_saved_page(SYNTHETIC)
    assert page.title == "Een blog met alles"
    assert (page.author_name, page.published) == ("Jan op den Akker", utc(2013, 12, 12, 9, 0))
    assert page.old_url == "https://ambtenaar20.ning.com/profiles/blogs/een-blog-met-alles"
    assert page.views == 1234
    assert page.body_html == (
        "<p>Eerste regel<br>tweede regel van dezelfde alinea.</p>"
        "<p>Over de algemene voorwaarden van de gemeente &amp; &lt;script&gt; in tekst.</p>"
    )
    # Equal times keep the reverse of the page order (the page lists newest first).
    assert [(c.author_name, c.body_html) for c in page.comments] == [
        ("Jan op den Akker", "<p>Eerste reactie.</p>"),
        ("Henk", "<p>Ook gelijk, maar eerder geschreven.</p>"),
        ("Zoë de Wit", "<p>Gelijk!</p>"),
    ]


def test_blog_of_line_names_the_author() -> None:
    page = parse_saved_page("Ambtenaar 2.0\n\nTitel\n\nBlog van Anouk Smit bekijken\n\nTekst.\n\nWeergaven: 3\n")
    assert (page.title, page.author_name, page.body_html, page.views) == ("Titel", "Anouk Smit", "<p>Tekst.</p>", 3)


def test_page_without_comments_or_views() -> None:
    page = parse_saved_page("Titel\n\nAlleen tekst.\n")
    assert (page.title, page.body_html, page.views, page.comments) == ("Titel", "<p>Alleen tekst.</p>", None, ())


def test_decoding_saved_files(tmp_path: Path) -> None:
    path = tmp_path / "pagina.txt"
    path.write_bytes("Titel\n\nIdee\xebn en caf\xe9.\n".encode("latin-1"))  # an old Windows save, not UTF-8
    assert read_saved_page(path).body_html == "<p>Ideeën en café.</p>"
    assert decode_page("\ufeffTitel".encode()) == "Titel"


# -- the HTML fixture ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def html_page():  # type: ignore[no-untyped-def]
    return read_saved_page(HTML_FIXTURE)


def test_html_fixture_header_fields(html_page) -> None:  # type: ignore[no-untyped-def]
    assert html_page.title == "Open data & de overheid: wat nu?"
    # The byline under the title, not the one in the sidebar ("Iemand Anders"); July: CEST.
    assert (html_page.author_name, html_page.published) == ("Marie Louise Borsje", utc(2013, 7, 14, 7, 5))
    assert html_page.views == 1234  # not the 99 a script would write
    assert html_page.old_url == "https://ambtenaar20.ning.com/profiles/blogs/open-data-en-de-overheid-wat-nu"


def test_html_fixture_body_keeps_structure_and_loses_hostile_markup(html_page) -> None:  # type: ignore[no-untyped-def]
    body = html_page.body_html
    for kept in (
        "<p>Steeds meer overheden publiceren <strong>open data</strong>. Maar wat levert het op?</p>",
        "<h3>Drie lessen</h3>", "<li>Begin klein;</li>",
        '<a href="https://data.overheid.nl/" rel="nofollow noopener noreferrer">data.overheid.nl</a>',
        '<img src="https://api.ning.com/files/Pic9*zz/opendata.png?width=500" width="500" alt="Open data">',
        "<p>Een regel<br>en nog een regel", 'href="https://www.youtube.com/embed/dQw4w9WgXcQ?wmode=opaque"',
        "<ul><li>Lijstje</li><li>met <em>nadruk</em></li></ul>",
    ):  # fmt: skip
        assert kept in body
    assert body.index("<ol>") < body.index("Begin klein") < body.index("</ol>")
    for gone in ("script", "alert", "onclick", "onerror", "style=", "javascript:", "target=", "class=", "iframe"):
        assert gone not in body
    for chrome in ("Hoofdpagina", "Weergaven", "Tags:", "Tweet", "Vorige blogpost", "Je moet lid", "Reactie van"):
        assert chrome not in body


def test_html_fixture_comments_oldest_first_in_utc(html_page) -> None:  # type: ignore[no-untyped-def]
    assert [(c.author_name, c.published, c.body_html) for c in html_page.comments] == [
        ("Zoë de Wit", utc(2013, 7, 14, 21, 45), "<p>Mooi stuk, <strong>Marie Louise</strong>!</p>"),
        ("Henk op den Akker", utc(2013, 10, 27, 0, 30), "<p>Het uur dat twee keer voorkomt.</p>"),
        (
            "José Ruíz", utc(2014, 3, 30, 0, 59),
            "Net voor het verzetten van de klok.<br>"
            'Tweede regel met <a rel="nofollow noopener noreferrer">een link</a>.',
        ),
        (
            "Zoë de Wit", utc(2014, 3, 30, 1, 1),
            '<p>Net na het verzetten van de klok.</p>'
            '<p><img src="https://api.ning.com/files/z2/grafiek.png" alt=""></p>',
        ),
    ]  # fmt: skip


def test_html_without_ning_markup_is_read_as_text() -> None:
    page = parse_saved_page(
        "<!-- saved from url=(0060)https://ambtenaar20.ning.com/profiles/blogs/kaal -->\n<html><body>"
        "<div>Ambtenaar 2.0</div><h1>Kale pagina</h1><p>Eerste <b>alinea</b>.</p><p>Tweede<br>regel.</p>"
        "<p>Weergaven: 7</p><div>Reactie van Anouk op 2 januari 2014 op 10.00</div><div>Hallo!</div>"
        "<p>© 2018 Gemaakt door iemand</p></body></html>"
    )
    assert page.title == "Kale pagina" and page.views == 7
    assert page.body_html == "<p>Eerste alinea.</p><p>Tweede<br>regel.</p>"
    assert [(c.author_name, c.published, c.body_html) for c in page.comments] == [
        ("Anouk", utc(2014, 1, 2, 9, 0), "<p>Hallo!</p>")
    ]
    assert page.old_url == "https://ambtenaar20.ning.com/profiles/blogs/kaal"


def test_deeply_nested_html_needs_no_recursion() -> None:
    deep = "<div>" * 5000 + "diep" + "</div>" * 5000  # far deeper than Python's recursion limit
    page = parse_saved_page(f'<html><body><h1>Diep</h1><div class="xg_user_generated">{deep}</div></body></html>')
    assert page.title == "Diep" and "diep" in page.body_html


def test_html_or_text() -> None:
    assert looks_like_html(HTML_FIXTURE.read_text(encoding="utf-8"))
    assert looks_like_html("\ufeff<html><body>x</body></html>")
    assert not looks_like_html(TEXT_FIXTURE.read_text(encoding="utf-8"))
    assert parse_saved_page("<h1>Tekst</h1>\n\nmet haken", kind="text").title == "<h1>Tekst</h1>"
