"""Content: Markdown rendering, post and remote HTML sanitising, plain text and inert text."""

from __future__ import annotations

import re

import pytest

from fediverse_a2.content import (
    inert_text,
    plain_text,
    render_markdown,
    sanitise_post_html,
    sanitise_remote_html,
)

REL = 'rel="nofollow noopener noreferrer"'


def tags(html: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<\s*/?\s*([a-zA-Z0-9]+)", html)}


def assert_inert(html: str) -> None:
    """Nothing that could run script or restyle the page survived."""
    lowered = html.lower()
    for bad in ("<script", "<style", "<iframe", "<img", "<svg", "<object", "<embed", "<form", "<input"):
        assert bad not in lowered, bad
    for bad in ("javascript:", "vbscript:", "data:", "onerror", "onclick", "onload", "style=", "srcdoc"):
        assert bad not in lowered, bad


# --- remote HTML: hostile input -------------------------------------------------------------


def test_remote_script_removed_with_its_content() -> None:
    out = sanitise_remote_html("<p>hi<script>alert('x')</script> there</p>")
    assert out == "<p>hi there</p>"


def test_remote_style_block_removed_with_its_content() -> None:
    out = sanitise_remote_html("<style>body{display:none}</style><p>text</p>")
    assert out == "<p>text</p>"


def test_remote_iframe_removed() -> None:
    out = sanitise_remote_html('<p>a</p><iframe src="https://evil.example/"><p>fallback</p></iframe><p>b</p>')
    assert out == "<p>a</p><p>b</p>"


@pytest.mark.parametrize(
    "html",
    [
        '<img src="x" onerror="alert(1)">caption',
        '<p onclick="alert(1)">caption</p>',
        '<span onmouseover="alert(1)">caption</span>',
        '<a href="https://ok.example/" onclick="alert(1)">caption</a>',
        '<svg onload="alert(1)"><text>x</text></svg>caption',
        '<body onload="alert(1)">caption</body>',
    ],
)
def test_remote_event_handlers_removed_text_kept(html: str) -> None:
    out = sanitise_remote_html(html)
    assert_inert(out)
    assert "caption" in out


def test_remote_style_attribute_removed() -> None:
    out = sanitise_remote_html('<p style="position:fixed;top:0">hello <span style="color:red">red</span></p>')
    assert out == "<p>hello <span>red</span></p>"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java&#x09;script:alert(1)",
        "java\nscript:alert(1)",
        "&#106;avascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "/relative/path",
        "//evil.example/protocol-relative",
        "#fragment",
        "file:///etc/passwd",
    ],
)
def test_remote_unsafe_links_lose_href_keep_text(href: str) -> None:
    out = sanitise_remote_html(f'<p><a href="{href}">click me</a></p>')
    assert "href" not in out
    assert "click me" in out
    assert_inert(out)


@pytest.mark.parametrize(
    "href",
    [
        "https://social.example/@alice",
        "http://example.org/x?a=1",
        "gemini://gem.example/",
        "xmpp:alice@example.org",
        "magnet:?xt=urn:btih:abc",
        "ipfs://bafy",
    ],
)
def test_remote_allowed_link_schemes(href: str) -> None:
    out = sanitise_remote_html(f'<a href="{href}">x</a>')
    assert "href=" in out
    assert REL in out


def test_remote_mailto_is_not_a_remote_scheme() -> None:
    assert "href" not in sanitise_remote_html('<a href="mailto:a@example.org">mail</a>')


def test_remote_links_get_rel_and_no_target() -> None:
    out = sanitise_remote_html('<a href="https://ok.example/" rel="opener" target="_top" title="t">ok</a>')
    assert out == f'<a href="https://ok.example/" {REL}>ok</a>'


def test_remote_classes_filtered_to_mastodons_set() -> None:
    html = (
        '<p class="foo">'
        '<span class="h-card other"><a href="https://s.example/@a" class="u-url mention evil">'
        '@<span class="invisible">https://</span><span class="ellipsis x">s.example/@a</span></a></span> '
        '<a href="https://s.example/tags/x" class="mention hashtag btn">#x</a>'
        '<span class="p-name dt-published e-content">y</span>'
        '<span class="nope">z</span>'
        "</p>"
    )
    out = sanitise_remote_html(html)
    assert "<p>" in out and 'class="foo"' not in out
    assert 'class="h-card"' in out
    assert 'class="u-url mention"' in out
    assert 'class="invisible"' in out
    assert 'class="ellipsis"' in out
    assert 'class="mention hashtag"' in out
    assert 'class="p-name dt-published e-content"' in out
    assert "nope" not in out and "evil" not in out and "btn" not in out
    assert "<span>z</span>" in out


def test_remote_mastodon_post_is_kept_intact() -> None:
    html = (
        '<p><span class="h-card" translate="no"><a href="https://m.example/@bob" class="u-url mention">'
        '@<span>bob</span></a></span> hello <a href="https://m.example/tags/fedi" class="mention hashtag" '
        'rel="tag">#<span>fedi</span></a></p><p>second<br>line</p>'
    )
    out = sanitise_remote_html(html)
    assert out == (
        f'<p><span class="h-card"><a href="https://m.example/@bob" class="u-url mention" {REL}>'
        f'@<span>bob</span></a></span> hello <a href="https://m.example/tags/fedi" class="mention hashtag" '
        f"{REL}>#<span>fedi</span></a></p><p>second<br>line</p>"
    )


def test_remote_formatting_tags_kept() -> None:
    html = (
        "<p><b>b</b><i>i</i><u>u</u><s>s</s><del>d</del><em>e</em><strong>st</strong><code>c</code></p>"
        "<blockquote><p>q</p></blockquote><pre><code>x</code></pre>"
        '<ol start="3" reversed><li value="5">one</li></ol><ul><li>two</li></ul>'
        "<ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby>"
    )
    assert sanitise_remote_html(html) == html.replace("reversed>", 'reversed="">')


def test_remote_bad_attribute_values_dropped() -> None:
    out = sanitise_remote_html('<ol start="x"><li value="1; evil">a</li></ol><p lang="nl">b</p><p lang="&quot;">c</p>')
    assert out == '<ol><li>a</li></ol><p lang="nl">b</p><p>c</p>'


def test_remote_headings_become_bold_paragraphs() -> None:
    out = sanitise_remote_html('<h1 class="x">Title</h1><p>body</p><H3>sub</H3>')
    assert out == "<p><strong>Title</strong></p><p>body</p><p><strong>sub</strong></p>"


def test_remote_unknown_tags_keep_their_text() -> None:
    out = sanitise_remote_html('<div><table><tr><td>cell</td></tr></table><form><input value="v">f</form></div>')
    assert_inert(out)
    assert "cell" in out and "f" in out


def test_remote_nested_and_malformed_markup() -> None:
    assert (
        sanitise_remote_html("<p>unclosed <strong>bold <em>both")
        == "<p>unclosed <strong>bold <em>both</em></strong></p>"
    )
    assert sanitise_remote_html("<p><b>x</p></b>y") == "<p><b>x</b></p>y"
    out = sanitise_remote_html("<scr<script>ipt>alert(1)</scr</script>ipt>")
    assert "<script" not in out
    out = sanitise_remote_html('<a href="https://ok.example/"><a href="javascript:x">inner</a></a>')
    assert "javascript" not in out and "inner" in out
    out = sanitise_remote_html('<p title="</p><script>alert(1)</script>">t</p>')
    assert_inert(out)
    out = sanitise_remote_html("<!-- <script>alert(1)</script> -->after")
    assert out == "after"
    out = sanitise_remote_html(
        '<math><mi xlink:href="javascript:alert(1)">x</mi></math><noscript><p>n</p></noscript>ok'
    )
    assert_inert(out)
    assert out.endswith("ok")


def test_remote_text_is_escaped() -> None:
    assert sanitise_remote_html("<p>1 &lt; 2 &amp;&amp; 3 > 2</p>") == "<p>1 &lt; 2 &amp;&amp; 3 &gt; 2</p>"


def test_remote_empty() -> None:
    assert sanitise_remote_html("") == ""
    assert sanitise_remote_html(None) == ""  # type: ignore[arg-type]


# --- our own posts --------------------------------------------------------------------------


def test_post_allowlist() -> None:
    html = (
        "<h2>h</h2><h3>h</h3><h4>h</h4><p>p<br><em>e</em><strong>s</strong><del>d</del><code>c</code></p>"
        "<pre><code>x</code></pre><blockquote>q</blockquote><ul><li>u</li></ul><ol><li>o</li></ol><hr>"
    )
    assert sanitise_post_html(html) == html


def test_post_drops_what_is_not_on_the_list() -> None:
    out = sanitise_post_html('<h1>t</h1><img src="https://x.example/a.png" alt="alt"><span class="x">s</span><b>b</b>')
    assert out == "tsb"
    assert_inert(out)


def test_post_links() -> None:
    out = sanitise_post_html(
        '<a href="https://ok.example/" title="t" class="c">web</a> <a href="mailto:a@example.org">mail</a> '
        '<a href="javascript:alert(1)">js</a> <a href="gemini://x.example/">gem</a> <a href="/local">rel</a>'
    )
    assert f'<a href="https://ok.example/" {REL}>web</a>' in out
    assert f'<a href="mailto:a@example.org" {REL}>mail</a>' in out
    assert out.count("href=") == 2
    assert "js" in out and "gem" in out and "rel</a>" in out


def test_post_code_class_only_language() -> None:
    out = sanitise_post_html('<pre><code class="language-python evil">x</code></pre><code class="x">y</code>')
    assert out == '<pre><code class="language-python">x</code></pre><code>y</code>'


@pytest.mark.parametrize(
    "html",
    ["<script>alert(1)</script>", '<p onclick="x">a</p>', '<p style="color:red">a</p>', "<iframe src=x></iframe>"],
)
def test_post_hostile_input(html: str) -> None:
    assert_inert(sanitise_post_html(html))


# --- Markdown -------------------------------------------------------------------------------


def test_markdown_headings_shift_below_the_page_title() -> None:
    out = render_markdown("# One\n\n## Two\n\n### Three\n\n###### Six")
    assert out.split() == ["<h2>One</h2>", "<h3>Two</h3>", "<h4>Three</h4>", "<h4>Six</h4>"]


def test_markdown_emphasis_code_and_strikethrough() -> None:
    out = render_markdown("*em* and **strong** and `co<de>` and ~~gone~~")
    assert (
        out.strip()
        == "<p><em>em</em> and <strong>strong</strong> and <code>co&lt;de&gt;</code> and <del>gone</del></p>"
    )


def test_markdown_code_block() -> None:
    out = render_markdown("```python\nif a < b:\n    pass\n```")
    assert out.strip() == '<pre><code class="language-python">if a &lt; b:\n    pass\n</code></pre>'


def test_markdown_lists_and_quotes() -> None:
    out = render_markdown("- a\n- b\n\n3. c\n4. d\n\n> quoted\n\n---\n\nline  \nbreak")
    assert "<ul>\n<li>a</li>\n<li>b</li>\n</ul>" in out
    assert '<ol start="3">\n<li>c</li>\n<li>d</li>\n</ol>' in out
    assert "<blockquote>\n<p>quoted</p>\n</blockquote>" in out
    assert "<hr>" in out
    assert "line<br>\nbreak" in out


def test_markdown_links() -> None:
    out = render_markdown('[site](https://ok.example/ "title") <https://auto.example/> <me@example.org>')
    assert f'<a href="https://ok.example/" {REL}>site</a>' in out
    assert f'<a href="https://auto.example/" {REL}>https://auto.example/</a>' in out
    assert f'<a href="mailto:me@example.org" {REL}>me@example.org</a>' in out


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "<javascript:alert(1)>",
        "[x]: javascript:alert(1)\n\n[x]",
    ],
)
def test_markdown_script_links_made_harmless(text: str) -> None:
    out = render_markdown(text)
    # what the member typed stays visible as text, but nothing is a link or markup
    assert "href" not in out and "<a" not in out
    assert tags(out) <= {"p"}


def test_markdown_raw_html_is_not_passed_through() -> None:
    out = render_markdown('<script>alert(1)</script>\n\nhello <b onclick="x">bold</b> <img src=x onerror=alert(1)>')
    assert "<script" not in out and "<b" not in out and "<img" not in out
    assert "&lt;script&gt;" in out  # shown as the text the member typed
    assert_inert(out.replace("&lt;", "").replace("onclick", "").replace("onerror", ""))


def test_markdown_image_becomes_a_link() -> None:
    out = render_markdown("![a *chart*](https://img.example/c.png)")
    assert out.strip() == f'<p><a href="https://img.example/c.png" {REL}>a chart</a></p>'


@pytest.mark.parametrize("src", ["javascript:alert(1)", "data:image/png;base64,iVBORw0KGgo=", "/local.png"])
def test_markdown_image_with_unsafe_source_is_not_a_link(src: str) -> None:
    out = render_markdown(f"![alt]({src})")
    assert "href" not in out and "<img" not in out
    assert "alt" in out


def test_markdown_empty() -> None:
    assert render_markdown("") == ""


# --- plain_text -----------------------------------------------------------------------------


def test_plain_text() -> None:
    html = (
        '<h2>Title</h2><p>a &amp; b &lt;tag&gt;</p><p>line<br>two <a href="https://x.example">link</a></p>'
        "<script>x()</script><style>p{}</style><ul><li>1</li><li>2</li></ul>"
    )
    assert plain_text(html) == "Title a & b <tag> line two link 1 2"


def test_plain_text_edge_cases() -> None:
    assert plain_text("") == ""
    assert plain_text("no markup") == "no markup"
    assert plain_text("<p>  lots \n\n of   space </p>") == "lots of space"
    assert plain_text('<span class="invisible">https://</span><span>example.org</span>') == "https://example.org"


# --- inert_text -----------------------------------------------------------------------------


def test_inert_text_strips_bidi_overrides() -> None:
    # "evil\u202Egpj.exe" shows as "evilexe.jpg" without this
    assert inert_text("evil\u202egpj.exe") == "evilgpj.exe"
    for char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c":
        assert inert_text(f"a{char}b") == "ab", hex(ord(char))


def test_inert_text_strips_zero_width() -> None:
    assert inert_text("ad\u200dmin") == "admin"  # ZWJ
    assert inert_text("ad\u200bmin") == "admin"  # ZWSP
    for char in "\u200c\u2060\ufeff":
        assert inert_text(f"a{char}b") == "ab"


def test_inert_text_strips_other_controls() -> None:
    assert inert_text("a\x00b\x07c\x7fd\x9be\u00adf\U000e0041g") == "abcdefg"
    assert inert_text("lone \ud800 surrogate") == "lone surrogate"


def test_inert_text_collapses_whitespace() -> None:
    assert inert_text("  Alice\n\n\tvan\r\nden\u00a0Berg\u2028! ") == "Alice van den Berg !"


def test_inert_text_truncates() -> None:
    assert inert_text("x" * 500) == "x" * 100
    assert inert_text("abcdef", max_len=3) == "abc"
    assert inert_text("ab cd", max_len=3) == "ab"  # no dangling space
    assert len(inert_text("é" * 200, 50)) == 50
    assert inert_text("abc", max_len=0) == ""


def test_inert_text_keeps_ordinary_text() -> None:
    assert inert_text("Ambtenaar 2.0 — Zoë 🇳🇱 <b>&amp;</b>") == "Ambtenaar 2.0 — Zoë 🇳🇱 <b>&amp;</b>"


def test_inert_text_none_and_non_strings() -> None:
    assert inert_text(None) == ""
    assert inert_text({"nl": "naam"}) == ""  # type: ignore[arg-type]
