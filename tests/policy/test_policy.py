"""Federation policy: domain normalisation, block/allow matching, rule merging and the list formats."""

from __future__ import annotations

import json

import pytest

from fediverse_a2.hosts import host_of, normalise_domain
from fediverse_a2.policy import (
    DomainRule,
    Policy,
    effective_rules,
    format_domain_csv,
    parse_domain_csv,
    parse_domain_list,
)

MASTODON_HEADER = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"


def block(domain: str, **kw: str) -> DomainRule:
    return DomainRule(domain=domain, kind="block", **kw)


def allow(domain: str, **kw: str) -> DomainRule:
    return DomainRule(domain=domain, kind="allow", **kw)


# --- normalise_domain -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("example.org", "example.org"),
        ("Example.ORG", "example.org"),
        ("  example.org \n", "example.org"),
        ("example.org.", "example.org"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.Example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\u3002org", "example.org"),  # UTS 46: fullwidth letters, "。"
        ("example.org:8443", "example.org"),
        ("example.org:", "example.org"),
        ("https://Example.ORG./x", "example.org"),
        ("http://social.example.org:8080/users/a?x=1#f", "social.example.org"),
        ("*.example.org", "example.org"),
        ("localhost", "localhost"),
        ("my_host.example.org", "my_host.example.org"),
        ("a" * 63 + ".org", "a" * 63 + ".org"),
    ],
)
def test_normalise_domain(value: str, expected: str) -> None:
    assert normalise_domain(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.2", "127.0.0.2"),
        ("127.0.0.2:8000", "127.0.0.2"),
        ("127.0.0.2.", "127.0.0.2"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("[::1]:8443", "::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("https://[2001:db8::1]:8443/inbox", "2001:db8::1"),
        ("[::ffff:10.0.0.1]", "10.0.0.1"),  # IPv4-mapped IPv6 is the IPv4 address
        # Every IPv4 spelling a browser accepts is the one address it reaches: a block of
        # 127.0.0.1 also covers them (the two normalisers that once disagreed are one now).
        ("127.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
    ],
)
def test_normalise_ip_literals(value: str, expected: str) -> None:
    assert normalise_domain(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "../../etc/passwd",
        "../etc",
        "..",
        "exa mple.org",
        "a" * 64 + ".org",
        ".".join(["a" * 50] * 5) + ".org",  # 258 characters
        "a..b",
        ".example.org",
        "example.org..",
        "-example.org",
        "example-.org",
        "exa*ple.org",
        "*",
        "*.*.example.org",
        "example.org/path",
        "example.org\\x",
        "user@example.org",
        "https://user@evil.example/",
        "evil.example\\@good.example",
        "example.org:99999",
        "example.org:80x",
        "example.org?x",
        "%65xample.org",
        "exa<mple.org",
        "[1.2.3.4]",
        "[::1",
        "[::1]x",
        "fe80::1%eth0",
        "999.1.1.1",
        "https://",
        "a\u200db.example",  # a joiner is not allowed in a domain
    ],
)
def test_normalise_domain_rejects(value: str) -> None:
    with pytest.raises(ValueError, match="invalid host"):
        normalise_domain(value)


def test_normalise_domain_rejects_non_strings() -> None:
    with pytest.raises(ValueError):
        normalise_domain(None)  # type: ignore[arg-type]


def test_invalid_domain_message_is_short() -> None:
    with pytest.raises(ValueError) as info:
        normalise_domain("x" * 10_000)
    assert len(str(info.value)) < 200


# --- host_of --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Social.Example.org:443/users/alice", "social.example.org"),
        ("http://example.org", "example.org"),
        ("HTTPS://example.org./x", "example.org"),
        ("https://bücher.example/@a", "xn--bcher-kva.example"),
        ("https://[::1]:8443/inbox", "::1"),
        ("http://127.0.0.2:8000/actor", "127.0.0.2"),
    ],
)
def test_host_of(url: str, expected: str) -> None:
    assert host_of(url) == expected


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org/", "example.org", "/users/a", "https:///x", "https://[::1", "javascript:alert(1)", "", None],
)
def test_host_of_rejects(url: str) -> None:
    with pytest.raises(ValueError):
        host_of(url)


# --- DomainRule -----------------------------------------------------------------------------


def test_rule_normalises_and_validates() -> None:
    assert block("Example.ORG.").domain == "example.org"
    assert block("Example.ORG.") == block("example.org")
    with pytest.raises(ValueError):
        DomainRule(domain="example.org", kind="mute")
    with pytest.raises(ValueError):
        DomainRule(domain="example.org", kind="block", severity="limit")
    with pytest.raises(ValueError):
        DomainRule(domain="exa mple.org", kind="block")
    assert block("a.example", source="config").is_manual
    assert not block("a.example", source="https://lists.example/b.csv").is_manual


# --- Policy ---------------------------------------------------------------------------------


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError):
        Policy("blocklist", [])


def test_block_covers_subdomains_only_downwards() -> None:
    policy = Policy("open", [block("example.org"), block("social.other.example")])
    assert policy.is_blocked("example.org")
    assert policy.is_blocked("social.example.org")
    assert policy.is_blocked("a.b.c.example.org")
    assert not policy.is_blocked("notexample.org")
    assert not policy.is_blocked("example.org.evil.test")
    assert not policy.is_blocked("org")
    # blocking a subdomain leaves its parent and siblings alone
    assert policy.is_blocked("social.other.example")
    assert policy.is_blocked("x.social.other.example")
    assert not policy.is_blocked("other.example")
    assert not policy.is_blocked("mail.other.example")


def test_hosts_are_normalised_before_matching() -> None:
    policy = Policy("open", [block("bücher.example"), block("example.org")])
    for host in ("Example.ORG", "example.org.", "social.example.org:8443", "EXAMPLE.org:443", "xn--bcher-kva.example"):
        assert policy.is_blocked(host), host
        assert not policy.is_allowed(host), host
    assert policy.is_blocked("Bücher.Example")


def test_open_mode_allows_everything_not_blocked() -> None:
    policy = Policy("open", [block("bad.example"), allow("good.example")])
    assert policy.is_allowed("anything.example")
    assert policy.is_allowed("good.example")
    assert not policy.is_allowed("bad.example")
    assert not policy.is_allowed("x.bad.example")


def test_allowlist_mode_allows_only_listed_and_block_wins() -> None:
    policy = Policy(
        "allowlist",
        [allow("example.org"), allow("partner.example"), block("bad.example.org"), block("partner.example")],
    )
    assert policy.is_allowed("example.org")
    assert policy.is_allowed("social.example.org")  # an allow covers subdomains too
    assert not policy.is_allowed("notexample.org")
    assert not policy.is_allowed("stranger.example")
    assert not policy.is_allowed("bad.example.org")  # the block wins over the parent's allow
    assert not policy.is_allowed("x.bad.example.org")
    assert not policy.is_allowed("partner.example")  # a block wins over an allow on the same domain
    assert not policy.is_blocked("stranger.example")  # not allowed is not the same as blocked


def test_allowlist_mode_with_no_allows_allows_nothing() -> None:
    policy = Policy("allowlist", [])
    assert not policy.is_allowed("example.org")
    assert not policy.is_blocked("example.org")


def test_ip_literals_match_exactly() -> None:
    policy = Policy("open", [block("10.0.0.1"), block("[2001:db8::1]")])
    assert policy.is_blocked("10.0.0.1")
    assert policy.is_blocked("10.0.0.1:8080")
    assert policy.is_blocked("[::ffff:10.0.0.1]")
    assert not policy.is_blocked("110.0.0.1")
    assert not policy.is_blocked("10.0.0.11")
    assert policy.is_blocked("10.1")  # another spelling of 10.0.0.1
    assert policy.is_blocked("0x0a000001")
    assert policy.is_blocked("1.2.3.4.5")  # ends in a number but is no IP and no domain: fails closed
    assert policy.is_blocked("[2001:DB8:0::1]:443")
    assert not policy.is_blocked("2001:db8::2")
    allowlist = Policy("allowlist", [allow("127.0.0.2")])
    assert allowlist.is_allowed("127.0.0.2")
    assert not allowlist.is_allowed("127.0.0.3")


def test_a_block_on_an_ip_does_not_match_domains() -> None:
    policy = Policy("open", [block("1.2.3.4")])
    assert not policy.is_blocked("1.2.3.4.example.org")


def test_severity_noop_blocks_nothing_silence_blocks() -> None:
    policy = Policy("open", [block("noop.example", severity="noop"), block("quiet.example", severity="silence")])
    assert not policy.is_blocked("noop.example")
    assert policy.is_allowed("noop.example")
    assert policy.is_blocked("quiet.example")


@pytest.mark.parametrize("host", ["", "exa mple.org", "../etc", "a" * 300, None])
def test_invalid_hosts_fail_closed(host: str) -> None:
    policy = Policy("open", [])
    assert policy.is_blocked(host)
    assert not policy.is_allowed(host)


def test_decision_cache_is_bounded_and_consistent() -> None:
    policy = Policy("open", [block("example.org")])
    policy.CACHE_SIZE = 8  # instance override keeps the test small
    for i in range(100):
        assert not policy.is_blocked(f"host{i}.test")
        assert policy.is_blocked(f"h{i}.example.org")
    assert len(policy._cache) <= 8
    assert policy.is_blocked("example.org")
    assert not policy.is_blocked("host1.test")


def test_policy_exposes_its_sets() -> None:
    policy = Policy("open", [block("a.example"), allow("b.example"), block("c.example", severity="noop")])
    assert policy.blocked == {"a.example"}
    assert policy.allowed == {"b.example"}
    assert policy.mode == "open"


# --- effective_rules ------------------------------------------------------------------------

SUB = "https://lists.example/blocks.csv"
SUB2 = "https://other.example/list.txt"


def test_effective_rules_prefers_manual_entries() -> None:
    rules = [
        block("a.example", source=SUB, comment="from list"),
        block("a.example", source="admin", comment="by hand"),
        block("b.example", source=SUB),
        block("b.example", source=SUB2),
        allow("a.example", source="config"),
        block("c.example", source="admin"),
        block("c.example", source="config", comment="config"),
    ]
    merged = effective_rules(rules)
    assert [(r.domain, r.kind, r.source) for r in merged] == [
        ("a.example", "block", "admin"),
        ("b.example", "block", SUB),
        ("a.example", "allow", "config"),
        ("c.example", "block", "config"),
    ]
    assert merged[0].comment == "by hand"


def test_effective_rules_dedupes_normalised_domains() -> None:
    merged = effective_rules([block("Example.org", source=SUB), block("example.org.", source=SUB2)])
    assert len(merged) == 1 and merged[0].source == SUB


# --- Mastodon CSV ---------------------------------------------------------------------------


def test_parse_mastodon_export() -> None:
    text = (
        f"{MASTODON_HEADER}\n"
        "bad.example,suspend,false,false,big jerks,false\n"
        "\n"
        'Quiet.Example.,silence,true,false,"spam, lots of it",true\n'
        "meh.example,noop,true,true,,false\n"
    )
    rules = parse_domain_csv(text)
    assert rules == [
        block("bad.example", source="admin", severity="suspend", comment="big jerks"),
        block("quiet.example", source="admin", severity="silence", comment="spam, lots of it"),
        block("meh.example", source="admin", severity="noop"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "domain,severity,reject_media,reject_reports,public_comment,obfuscate\nbad.example,silence,false,false,c,false\n",
        "#domain,#severity\nbad.example,silence\n",
        "\ufeff#domain,#severity,#public_comment\r\nbad.example,Silence,c\r\n",
        " #Domain , #Severity \nbad.example,silence\n",
    ],
)
def test_parse_header_variants(text: str) -> None:
    [rule] = parse_domain_csv(text)
    assert (rule.domain, rule.severity) == ("bad.example", "silence")


def test_parse_columns_by_name() -> None:
    [rule] = parse_domain_csv("#severity,#public_comment,#domain\nsilence,why,bad.example\n")
    assert (rule.domain, rule.severity, rule.comment) == ("bad.example", "silence", "why")


def test_parse_domain_only_files() -> None:
    assert [r.domain for r in parse_domain_csv("a.example\nb.example\n\nc.example")] == [
        "a.example",
        "b.example",
        "c.example",
    ]
    assert [r.domain for r in parse_domain_csv("#domain\na.example\n")] == ["a.example"]
    # without a header, like Mastodon, only the first column counts and severity is suspend
    [rule] = parse_domain_csv("a.example,silence\n")
    assert rule.severity == "suspend"


def test_parse_defaults_and_duplicates() -> None:
    rules = parse_domain_csv(f"{MASTODON_HEADER}\na.example,,,,,\nA.example,silence,,,,\n")
    assert rules == [block("a.example", source="admin")]


def test_parse_empty_file() -> None:
    assert parse_domain_csv("") == []
    assert parse_domain_csv(MASTODON_HEADER + "\n") == []


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (f"{MASTODON_HEADER}\ngood.example,suspend\nexa mple.org,suspend\nlater.example,suspend\n", 3),
        (f"{MASTODON_HEADER}\ngood.example,suspend\n\n../../etc/passwd,suspend\n", 4),
        (f"{MASTODON_HEADER}\ngood.example,banish\n", 2),
        (f"{MASTODON_HEADER}\n,suspend,false\n", 2),
        ("good.example\nexa*ple.org\n", 2),
    ],
)
def test_a_bad_line_aborts_the_whole_import(text: str, line: int) -> None:
    with pytest.raises(ValueError, match=rf"^line {line}: "):
        parse_domain_csv(text)


def test_malformed_csv_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="line"):
        parse_domain_csv("a.example\0,x\n")


def test_format_uses_mastodon_header_and_order() -> None:
    text = format_domain_csv(
        [block("bad.example", comment="big jerks"), block("quiet.example", severity="silence"), allow("good.example")]
    )
    assert text == (
        f"{MASTODON_HEADER}\n"
        "bad.example,suspend,false,false,big jerks,false\n"
        "quiet.example,silence,false,false,,false\n"
    )


def test_format_dedupes_and_quotes() -> None:
    text = format_domain_csv(
        [block("a.example", source=SUB, comment="list"), block("a.example", comment='said "no", twice\nreally')]
    )
    assert text.count("a.example") == 1
    assert parse_domain_csv(text)[0].comment == 'said "no", twice\nreally'


def test_csv_round_trip() -> None:
    rules = [
        block("bad.example", comment="big jerks"),
        block("xn--bcher-kva.example", severity="silence", comment='comma, "quote"'),
        block("10.0.0.1", severity="noop"),
        block("2001:db8::1"),
    ]
    assert parse_domain_csv(format_domain_csv(rules)) == rules


# --- subscription lists ---------------------------------------------------------------------


def test_subscription_csv() -> None:
    body = (
        f"{MASTODON_HEADER}\n"
        "bumfaces.net,suspend,false,false,big jerks,false\n"
        "peepee.poopoo,silence,false,false,harassment,false\n"
        "nothanks.com,noop,true,false,,false\n"
        "exa*ple.org,suspend,false,false,obfuscated,true\n"
    )
    assert parse_domain_list(body, "text/csv; charset=utf-8") == ["bumfaces.net", "peepee.poopoo"]


def test_subscription_json_as_mastodon_api_returns_it() -> None:
    body = json.dumps(
        [
            {"domain": "Bumfaces.net", "digest": "0" * 64, "severity": "suspend", "comment": "big jerks"},
            {"domain": "peepee.poopoo", "suspended_at": "2020-05-13T13:29:12.000Z"},
            {"domain": "ex**ple.org", "digest": "1" * 64, "severity": "suspend"},  # obfuscated: skipped
            {"domain": 42},
            "nothanks.com",
            None,
        ]
    )
    assert parse_domain_list(body, "application/json") == ["bumfaces.net", "peepee.poopoo", "nothanks.com"]


def test_subscription_plain_text() -> None:
    body = (
        "# shared allowlist\n\ninstance-a.example.org\nInstance-B.example.org.  # comment\n  instance-c.example.org\n"
    )
    assert parse_domain_list(body, "text/plain") == [
        "instance-a.example.org",
        "instance-b.example.org",
        "instance-c.example.org",
    ]


@pytest.mark.parametrize("content_type", ["text/plain; charset=utf-8", "application/octet-stream", ""])
def test_subscription_format_is_sniffed_when_the_type_is_vague(content_type: str) -> None:
    # raw file hosts serve everything as text/plain
    csv_body = f"{MASTODON_HEADER}\na.example,suspend,false,false,,false\n"
    json_body = '[{"domain": "a.example"}]'
    text_body = "a.example\n"
    for body in (csv_body, json_body, text_body):
        assert parse_domain_list(body, content_type) == ["a.example"], body


def test_subscription_falls_back_when_the_declared_type_is_wrong() -> None:
    assert parse_domain_list("a.example\nb.example\n", "application/json") == ["a.example", "b.example"]
    assert parse_domain_list('[{"domain": "a.example"}]', "text/csv") == ["a.example"]


def test_subscription_dedupes() -> None:
    assert parse_domain_list("a.example\nA.EXAMPLE.\nb.example\n", "text/plain") == ["a.example", "b.example"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", "text/plain"),
        ("# only comments\n\n", "text/plain"),
        ("[]", "application/json"),
        ('{"error": "not found"}', "application/json"),
        ("<!doctype html><html><body>Login</body></html>", "text/html"),
        ("<html>\nok\n</html>", "text/plain"),
        ("not a domain list at all\n", "text/plain"),
        (f"{MASTODON_HEADER}\n", "text/csv"),
    ],
)
def test_subscription_with_nothing_usable_raises(body: str, content_type: str) -> None:
    with pytest.raises(ValueError):
        parse_domain_list(body, content_type)
