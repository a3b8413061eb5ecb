"""html_images: finding images in stored HTML, the undescribed ones, and describing them in place."""

from __future__ import annotations

from fediverse_a2.html_images import ImageRef, describe, find_images, first_image, rewrite_images, undescribed, with_alt

MEDIA = "https://a2.example/media/"


def test_images_are_found_in_order_with_their_sizes_and_titles() -> None:
    html = (
        f'<p>Tekst</p><img src="{MEDIA}a.jpg" width="800" height="600" alt=" Een grafiek ">'
        '<img src="https://elders.example/b.png" title="Titel"><img alt="zonder adres"><img src="c.gif" width="wide"/>'
    )
    assert find_images(html) == [
        ImageRef(f"{MEDIA}a.jpg", "Een grafiek", 800, 600),
        ImageRef("https://elders.example/b.png", "", title="Titel"),
        ImageRef("c.gif", ""),
    ]


def test_the_first_image_is_the_first_of_this_instance() -> None:
    html = f'<img src="https://elders.example/x.jpg"><p><img src="{MEDIA}y.jpg" alt="Y"></p><img src="{MEDIA}z.jpg">'
    first = first_image(html, MEDIA)
    assert first is not None and first.src == f"{MEDIA}y.jpg" and first.alt == "Y"
    assert first_image("<p>Geen plaatjes</p>", MEDIA) is None
    assert first_image('<img src="https://elders.example/x.jpg">', MEDIA) is None


def test_undescribed_lists_each_address_once() -> None:
    html = '<img src="a.jpg"><img src="b.jpg" alt="B"><img src="c.jpg" alt="  "><img src="a.jpg" alt="">'
    assert undescribed(html) == ["a.jpg", "c.jpg"]


def test_describe_sets_alt_only_where_there_is_none_and_keeps_the_rest() -> None:
    # Line breaks of every kind before the tags: offsets must still be right.
    html = (
        '<p>Eén\r\nregel\u2028verder</p>\n<p><img src="a.jpg" title="x > y" width="10"></p>'
        '<img src="b.jpg" alt="Al beschreven"><img src="a.jpg">\n<img src="c.jpg">'
    )
    out = describe(html, {"a.jpg": 'Een "grafiek" <met> & teken', "b.jpg": "Nieuw", "c.jpg": "   "})
    described = 'alt="Een &quot;grafiek&quot; &lt;met&gt; &amp; teken"'
    assert out.startswith("<p>Eén\r\nregel\u2028verder</p>\n<p>")
    assert f'<img src="a.jpg" title="x &gt; y" width="10" {described}></p>' in out
    assert out.count(described) == 2  # the same image twice: both described
    assert '<img src="b.jpg" alt="Al beschreven">' in out  # a description is never replaced
    assert '<img src="c.jpg">' in out  # an empty description changes nothing
    assert find_images(out)[0].alt == 'Een "grafiek" <met> & teken'
    assert describe(html, {}) == html


def test_with_alt_gives_images_without_any_alt_an_empty_one() -> None:
    html = '<p>x</p><img src="a.jpg"><img src="b.jpg" alt="B"><img src="c.jpg" alt="">'
    assert with_alt(html) == '<p>x</p><img src="a.jpg" alt=""><img src="b.jpg" alt="B"><img src="c.jpg" alt="">'
    assert undescribed(with_alt(html)) == ["a.jpg", "c.jpg"]  # still waiting for their author
    text = "<p>Geen afbeeldingen</p>"
    assert with_alt(text) is text


def test_rewrite_images_replaces_addresses_and_leaves_images_out() -> None:
    doc = '<p>a <img src="x.jpg" alt="X"> b <img alt="geen bron"> c <img src="y.png" title="Y&amp;Z"></p>'
    out = rewrite_images(doc, lambda ref: None if ref.src in ("", "y.png") else "/media/" + ref.src)
    assert out == '<p>a <img src="/media/x.jpg" alt="X"> b  c </p>'
    assert rewrite_images("<p>geen</p>", lambda ref: "") == "<p>geen</p>"
