"""Members: the local Person actors, and their accounts."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from ..models import Member
from ..search_text import fold
from . import meta
from .db import Executor, Row
from .sql import marks, optional_int, optional_str

__all__ = [
    "DIRECTORY_REINDEX_KEY",
    "NewMember",
    "add_many",
    "avatars",
    "by_id",
    "by_name",
    "by_username",
    "count",
    "create",
    "directory",
    "directory_text",
    "list_all",
    "newest",
    "password_hash",
    "reindex_directory_if_pending",
    "set_avatar",
    "set_disabled",
    "set_email",
    "set_key",
    "set_legacy_id",
    "set_password_hash",
    "set_profile",
    "set_role",
]


@dataclass(frozen=True, slots=True)
class NewMember:
    """A member brought in from the archive (no key pair yet: public_key_pem stays '' until first needed)."""

    legacy_id: str
    username: str
    name: str
    email: str | None
    role: str
    state: str
    disabled: bool
    created_at: float


_COLUMNS = (
    "m.id, m.username, m.name, m.summary, m.public_key_pem, m.created_at, m.role, m.disabled, m.state, "
    "m.email, m.fields, a.file_name AS avatar, m.locked"
)
_SELECT = f"SELECT {_COLUMNS} FROM members m LEFT JOIN media a ON a.id = m.avatar_id"
# Who the directory and the newest-members list show: people who can take part.
_LISTED = "m.kind = 'person' AND m.state = 'active' AND m.disabled = 0"
DIRECTORY_REINDEX_KEY = "directory_reindex"


def _fields(raw: str | None) -> tuple[tuple[str, str], ...]:
    try:
        data = orjson.loads(raw or "[]")
    except orjson.JSONDecodeError:
        return ()
    return tuple((str(k), str(v)) for k, v in data if isinstance(k, str) and isinstance(v, str))


def _member(row: Row) -> Member:
    return Member(
        id=row["id"],
        username=row["username"],
        name=row["name"],
        summary=row["summary"],
        public_key_pem=row["public_key_pem"],
        created_at=row["created_at"],
        role=row["role"],
        disabled=bool(row["disabled"]),
        state=row["state"],
        email=row["email"],
        fields=_fields(row["fields"]),
        avatar=row["avatar"],
        locked=bool(row["locked"]),
    )


def directory_text(name: str, fields: tuple[tuple[str, str], ...] | list[tuple[str, str]] = ()) -> str:
    """What the member directory searches: the name and the profile fields' values, folded
    (lower case, no accents), so "rene" finds René and "utrecht" a "Gemeente Utrecht"."""
    return fold(" ".join([name, *(value for _, value in fields)]))


async def create(
    db: Executor,
    username: str,
    name: str,
    summary: str,
    public_key_pem: str,
    *,
    role: str = "member",
    state: str = "active",
    email: str | None = None,
    created_at: float | None = None,
) -> Member:
    """Insert a member; the caller has checked the username is free and valid."""
    member_id = await db.fetchval(
        "INSERT INTO members (username, name, summary, public_key_pem, created_at, role, state, email, "
        "directory_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (username, name, summary, public_key_pem, created_at or time.time(), role, state, email, directory_text(name)),
    )
    member = await by_id(db, int(member_id))
    assert member is not None
    return member


async def add_many(db: Executor, rows: Sequence[NewMember]) -> list[int | None]:
    """Insert archive members (public_key_pem ''); the new row ids, None where the legacy id was there already."""
    ids = await db.fetchval_each(
        "INSERT INTO members (username, name, summary, public_key_pem, created_at, role, state, email, disabled, "
        "legacy_id, directory_text) VALUES (?, ?, '', '', ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (legacy_id) DO NOTHING RETURNING id",
        [_new_member_values(r) for r in rows],
    )
    return [optional_int(i) for i in ids]


def _new_member_values(r: NewMember) -> tuple[object, ...]:
    disabled = 1 if r.disabled else 0
    return (r.username, r.name, r.created_at, r.role, r.state, r.email, disabled, r.legacy_id, directory_text(r.name))


async def set_legacy_id(db: Executor, member_id: int, legacy_id: str) -> None:
    """Mark a member (or group actor) as the one made from this id on the old platform."""
    await db.execute("UPDATE members SET legacy_id = ? WHERE id = ?", (legacy_id, member_id))


async def set_avatar(db: Executor, member_id: int, media_id: int) -> None:
    """Give a member a profile photo (an imported member the one of the archive)."""
    await db.execute("UPDATE members SET avatar_id = ? WHERE id = ?", (media_id, member_id))


async def by_username(db: Executor, username: str) -> Member | None:
    """The member with this username, or None."""
    row = await db.fetchone(f"{_SELECT} WHERE m.username = ?", (username,))
    return _member(row) if row else None


async def by_id(db: Executor, member_id: int) -> Member | None:
    """The member with this id, or None."""
    row = await db.fetchone(f"{_SELECT} WHERE m.id = ?", (member_id,))
    return _member(row) if row else None


async def by_name(db: Executor, name: str) -> list[Member]:
    """Members with exactly this display name (to match archive commenters)."""
    return [_member(r) for r in await db.fetchall(f"{_SELECT} WHERE m.name = ? ORDER BY m.id", (name,))]


async def count(db: Executor) -> int:
    """How many members (people, not group actors) there are."""
    return int(await db.fetchval("SELECT COUNT(*) FROM members WHERE kind = 'person'"))


async def list_all(db: Executor) -> list[Member]:
    """Every member (people, not group actors), oldest first."""
    return [_member(r) for r in await db.fetchall(f"{_SELECT} WHERE m.kind = 'person' ORDER BY m.id")]


async def password_hash(db: Executor, member_id: int) -> str | None:
    """A member's password hash, or None when no password was ever set."""
    return optional_str(await db.fetchval("SELECT password_hash FROM members WHERE id = ?", (member_id,)))


async def set_password_hash(db: Executor, member_id: int, value: str) -> None:
    """Store a new password hash."""
    await db.execute("UPDATE members SET password_hash = ? WHERE id = ?", (value, member_id))


async def set_role(db: Executor, member_id: int, role: str) -> None:
    """Change a member's role."""
    await db.execute("UPDATE members SET role = ? WHERE id = ?", (role, member_id))


async def set_disabled(db: Executor, member_id: int, disabled: bool) -> None:
    """Disable (no sign-in, no new posts) or enable an account."""
    await db.execute("UPDATE members SET disabled = ? WHERE id = ?", (1 if disabled else 0, member_id))


async def set_key(db: Executor, member_id: int, public_key_pem: str) -> bool:
    """Record a member's public key, only if it has none yet; False when another process was first."""
    return bool(
        await db.execute(
            "UPDATE members SET public_key_pem = ? WHERE id = ? AND public_key_pem = ''", (public_key_pem, member_id)
        )
    )


async def set_profile(
    db: Executor,
    member_id: int,
    *,
    name: str,
    summary: str,
    fields: tuple[tuple[str, str], ...],
    avatar_id: int | None,
    locked: bool,
) -> None:
    """Replace what a member's profile shows."""
    await db.execute(
        "UPDATE members SET name = ?, summary = ?, fields = ?, avatar_id = COALESCE(?, avatar_id), locked = ?, "
        "directory_text = ? WHERE id = ?",
        (
            name,
            summary,
            orjson.dumps([list(f) for f in fields]).decode(),
            avatar_id,
            1 if locked else 0,
            directory_text(name, fields),
            member_id,
        ),
    )


async def set_email(db: Executor, member_id: int, email: str | None) -> None:
    """A member's e-mail address (for invitations and notification mail; never published)."""
    await db.execute("UPDATE members SET email = ? WHERE id = ?", (email, member_id))


async def newest(db: Executor, limit: int) -> list[Member]:
    """The members who joined last (people who can take part), newest first."""
    rows = await db.fetchall(f"{_SELECT} WHERE {_LISTED} ORDER BY m.created_at DESC, m.id DESC LIMIT ?", (limit,))
    return [_member(r) for r in rows]


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def directory(db: Executor, words: list[str], limit: int, offset: int = 0) -> list[Member]:
    """People who can take part, by name; with `words` (folded), those whose name or profile
    fields contain every one of them."""
    where = _LISTED + "".join(" AND m.directory_text LIKE ? ESCAPE '\\'" for _ in words)
    rows = await db.fetchall(
        f"{_SELECT} WHERE {where} ORDER BY m.name, m.id LIMIT ? OFFSET ?",
        (*(_like(w) for w in words), limit, offset),
    )
    return [_member(r) for r in rows]


async def avatars(db: Executor, member_ids: list[int]) -> dict[int, str]:
    """The avatar file of each of these members that has one."""
    if not member_ids:
        return {}
    unique = list(dict.fromkeys(member_ids))
    rows = await db.fetchall(
        "SELECT m.id, a.file_name FROM members m JOIN media a ON a.id = m.avatar_id "
        f"WHERE m.id IN ({marks(len(unique))})",
        tuple(unique),
    )
    return {int(member_id): str(file_name) for member_id, file_name in rows}


async def reindex_directory_if_pending(db: Executor) -> int | None:
    """Fill the directory's search text when a migration asked for it (members stored before it)."""
    if await meta.get(db, DIRECTORY_REINDEX_KEY) is None:
        return None
    rows = await db.fetchall("SELECT id, name, fields FROM members")
    await db.executemany(
        "UPDATE members SET directory_text = ? WHERE id = ?",
        [(directory_text(name, _fields(fields)), member_id) for member_id, name, fields in rows],
    )
    await db.execute("DELETE FROM meta WHERE key = ?", (DIRECTORY_REINDEX_KEY,))
    return len(rows)
