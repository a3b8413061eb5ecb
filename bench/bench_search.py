"""Full-text search over 100,000 comments and 10,000 posts, on SQLite (FTS5).

    python bench/bench_search.py            # 200 searches per query
    python bench/bench_search.py --quick    # 20

Seeded straight into the database: 400 members, 10,000 posts (about 150 words each) and
100,000 comments (about 30 words each) of Dutch text drawn from a vocabulary of about 400
words and their inflected forms, with Zipf-like frequencies, so the most common subject words
occur in a third of all documents. The index is filled with store.search.index_posts /
index_comments in batches of 5,000, as the importer does (timed).

Each query of the mix is asked one at a time, in two ways:
  store:  store.search.search (with search_text.query_terms) on the opened database;
  HTTP:   GET /search?q=... of `fediverse-a2 serve` as a separate process, over one keep-alive
          connection from a raw HTTP/1.1 client (the whole page: ranking, snippets, template).
Printed: median and p95 per query and mode, in ms, and the p95 of the whole mix.
Target: p95 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import HttpConn, Report, free_port, get_request, median, pct, serve_proc, workdir, write_config

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _words(text: str) -> list[str]:
    return text.split()


SUBJECTS = _words(
    "gemeente gemeenten overheid overheden ambtenaar ambtenaren burger burgers samenwerking "
    "samenwerkingen vergadering vergaderingen beleid besluit besluiten wethouder wethouders raad "
    "provincie provincies ministerie ministeries project projecten netwerk netwerken idee ideeën "
    "innovatie innovaties participatie dienstverlening loket loketten website websites internet "
    "open data gegevens privacy veiligheid wijk wijken buurt buurten bibliotheek bibliotheken "
    "school scholen onderwijs zorg jeugdzorg belasting belastingen subsidie subsidies begroting "
    "digitalisering computer computers software programma programma's blog blogs reactie reacties "
    "discussie discussies vraag vragen antwoord antwoorden oplossing oplossingen probleem problemen "
    "ervaring ervaringen organisatie organisaties medewerker medewerkers collega collega's team teams "
    "leiding manager managers directeur verandering veranderingen cultuur kennis communicatie "
    "twitter facebook linkedin sociale media café cafés bijeenkomst bijeenkomsten congres workshop "
    "presentatie presentaties rapport rapporten onderzoek onderzoeken wet wetten regel regels "
    "regelgeving inspraak democratie verkiezingen partij partijen politiek kamer minister"
)
VERBS = _words(
    "werken werkt werkte gewerkt delen deelt deelde gedeeld maken maakt maakte gemaakt denken denkt "
    "dacht gedacht zoeken zoekt zocht gezocht vinden vindt vond gevonden schrijven schrijft schreef "
    "geschreven lezen leest las gelezen praten praat praatte gepraat helpen helpt hielp geholpen "
    "veranderen verandert veranderde veranderd organiseren organiseert organiseerde georganiseerd"
)
FILLER = _words(
    "de het een en van in is op te dat die voor met niet aan er maar om ook als bij nog wel naar "
    "dan wat zo door over ze zijn hun wij we jullie mooi goed nieuw oud groot klein belangrijk "
    "lastig makkelijk snel langzaam echt zeker misschien vaak soms altijd nooit samen"
)
RARE = [f"zeldzaam{i}" for i in range(2000)]

QUERIES = [
    ("common word", "gemeente"),
    ("common word, plural", "ambtenaren"),
    ("accent folded", "ideeen"),
    ("two words", "samenwerking overheid"),
    ("three words", "open data gemeente"),
    ("stopword + word", "de bibliotheek"),
    ("verb form", "georganiseerd"),
    ("rare word", "zeldzaam77"),
    ("rare + common", "zeldzaam123 gemeente"),
    ("no match", "kwantumcomputer"),
    ("page 5 of a common word", "burgers&page=5"),
]


def _zipf(words: list[str], rng: random.Random, n: int) -> list[str]:
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(words))]
    return rng.choices(words, weights, k=n)


def text(rng: random.Random, n: int) -> str:
    subjects = _zipf(SUBJECTS, rng, n // 3)
    verbs = _zipf(VERBS, rng, n // 6)
    filler = _zipf(FILLER, rng, n - len(subjects) - len(verbs))
    words = subjects + verbs + filler
    rng.shuffle(words)
    if rng.random() < 0.2:
        words.insert(rng.randrange(len(words)), rng.choice(RARE))
    return " ".join(words)


async def seed(config: Path, n_members: int, n_posts: int, n_comments: int) -> tuple[float, float]:
    """Rows straight into SQLite, then the index through the store; returns (seed s, index s)."""
    from fediverse_a2.config import load_config
    from fediverse_a2.runtime import Runtime
    from fediverse_a2.store import search

    rt = await Runtime.open(load_config(config))
    await rt.close()
    rng = random.Random(11)
    started = time.perf_counter()
    db = sqlite3.connect(config.parent / "data" / "db.sqlite3")
    now = time.time()
    year = 365 * 86400
    with db:
        db.executemany(
            "INSERT INTO members (id, username, name, public_key_pem, created_at) VALUES (?, ?, ?, '', ?)",
            [(i + 1, f"lid{i}", f"Lid {i} de Vries", now) for i in range(n_members)],
        )
        db.executemany(
            "INSERT INTO posts (id, member_id, title, body_md, content_html, published) VALUES (?, ?, ?, '', ?, ?)",
            [
                (
                    i + 1,
                    rng.randrange(n_members) + 1,
                    text(rng, 6).capitalize(),
                    "".join(f"<p>{text(rng, 50)}.</p>" for _ in range(3)),
                    now - 6 * year + i * (6 * year / n_posts),
                )
                for i in range(n_posts)
            ],
        )
        db.executemany(
            "INSERT INTO comments (id, ap_id, url, post_id, author_uri, member_id, domain, content_html, published, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, '127.0.0.1', ?, ?, ?)",
            [
                (
                    i + 1,
                    f"http://127.0.0.1/comments/{i + 1}",
                    f"http://127.0.0.1/comments/{i + 1}",
                    (post := rng.randrange(n_posts) + 1),
                    f"http://127.0.0.1/users/lid{(m := rng.randrange(n_members))}",
                    m + 1,
                    f"<p>{text(rng, 30)}</p>",
                    now - 6 * year + post * (6 * year / n_posts) + 3600,
                    now,
                )
                for i in range(n_comments)
            ],
        )
    db.close()
    seeded = time.perf_counter() - started

    rt = await Runtime.open(load_config(config))
    try:
        started = time.perf_counter()
        batch = 5000
        for first in range(1, n_posts + 1, batch):
            async with rt.db.transaction() as tx:
                await search.index_posts(tx, range(first, min(first + batch, n_posts + 1)))
        for first in range(1, n_comments + 1, batch):
            async with rt.db.transaction() as tx:
                await search.index_comments(tx, range(first, min(first + batch, n_comments + 1)))
        await rt.db.execute("DELETE FROM meta WHERE key = 'search_reindex'")
        indexed = time.perf_counter() - started
    finally:
        await rt.close()
    return seeded, indexed


async def through_store(config: Path, n: int) -> dict[str, list[float]]:
    from fediverse_a2.config import load_config
    from fediverse_a2.runtime import Runtime
    from fediverse_a2.search_text import query_terms
    from fediverse_a2.store import search

    rt = await Runtime.open(load_config(config))
    out: dict[str, list[float]] = {}
    try:
        for name, q in QUERIES:
            query, _, page = q.partition("&page=")
            offset = (int(page) - 1) * 20 if page else 0
            for _ in range(3):
                await search.search(rt.db, query_terms(query), rt.policy, 21, offset)
            times = []
            for _ in range(n):
                t = time.perf_counter()
                await search.search(rt.db, query_terms(query), rt.policy, 21, offset)
                times.append(time.perf_counter() - t)
            out[name] = times
    finally:
        await rt.close()
    return out


async def over_http(port: int, n: int) -> tuple[dict[str, list[float]], dict[str, int]]:
    out: dict[str, list[float]] = {}
    hits: dict[str, int] = {}
    conn = await HttpConn.open(port)
    try:
        for name, q in QUERIES:
            query, _, page = q.partition("&page=")
            path = f"/search?q={quote(query)}" + (f"&page={page}" if page else "")
            raw = get_request(port, path, HTML, BROWSER)
            for _ in range(3):
                status, _, body = await conn.send(raw)
                assert status == 200, (name, status)
            hits[name] = body.count(b'class="summary search-hit"')
            times = []
            for _ in range(n):
                t = time.perf_counter()
                await conn.send(raw)
                times.append(time.perf_counter() - t)
            out[name] = times
    finally:
        await conn.close()
    return out, hits


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--tag", default="")
    ap.add_argument("--posts", type=int, default=10_000)
    ap.add_argument("--comments", type=int, default=100_000)
    args = ap.parse_args()
    n = 20 if args.quick else args.n
    rep = Report("bench_search", save=not (args.quick or args.no_save))
    with workdir("search") as folder:
        port = free_port()
        config = write_config(folder / "a2", port)
        seeded, indexed = await seed(config, 400, args.posts, args.comments)
        docs = args.posts + args.comments
        rep.line(
            f"seeded: 400 members, {args.posts:,} posts, {args.comments:,} comments in {seeded:.1f} s; "
            f"indexed in {indexed:.1f} s ({docs / indexed:,.0f} documents/s); {n} searches per query"
        )
        store = await through_store(config, n)
        with serve_proc(config, port, folder / "serve.log") as proc:
            proc.start("/.well-known/nodeinfo")
            http, hits = await over_http(port, n)
    rep.line(f"{'query':42} {'hits':>4} {'store median/p95 ms':>22} {'HTTP median/p95 ms':>22}")
    for name, q in QUERIES:
        a, b = store[name], http[name]
        rep.line(
            f"{name + ' (' + q + ')':42} {hits[name]:4} {median(a) * 1e3:10.2f} / {pct(a, 95) * 1e3:6.2f}"
            f"     {median(b) * 1e3:9.2f} / {pct(b, 95) * 1e3:6.2f}"
        )
    mix_store = [t for times in store.values() for t in times]
    mix_http = [t for times in http.values() for t in times]
    worst = max(pct(mix_store, 95), pct(mix_http, 95))
    rep.line(
        f"RESULT mix p95: store {pct(mix_store, 95) * 1e3:.2f} ms, HTTP {pct(mix_http, 95) * 1e3:.2f} ms; "
        f"target p95 <= 50 ms: {'MET' if worst <= 0.050 else 'NOT MET'}"
    )
    rep.write(args.tag)


if __name__ == "__main__":
    asyncio.run(main())
