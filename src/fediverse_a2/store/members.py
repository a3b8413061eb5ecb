"""Members: the local Person actors, and their accounts."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from ..models import DELETED, Member
from ..search_text import fold
from . import meta
from .db import Executor, Row
from .sql import marks, optional_float, optional_int, optional_str

__all__ = [
    "DIRECTORY_REINDEX_KEY",
    "NewMember",
    "add_many",
    "admins_left",
    "avatars",
    "by_email",
    "by_id",
    "by_ids",
    "by_name",
    "by_username",
    "by_usernames",
    "count",
    "create",
    "deleted_at",
    "directory",
    "directory_text",
    "erase",
    "erased_with_keys",
    "is_erased",
    "list_all",
    "newest",
    "password_hash",
    "reindex_directory_if_pending",
    "retire_key",
    "set_aliases",
    "set_avatar",
    "set_disabled",
    "set_email",
    "set_hidden_fields",
    "set_key",
    "set_legacy_id",
    "set_moved_to",
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
    summary: str = ""
    hidden_fields: tuple[tuple[str, str], ...] = ()


_COLUMNS = (
    "m.id, m.username, m.name, m.summary, m.public_key_pem, m.created_at, m.role, m.disabled, m.state, "
    "m.email, m.fields, a.file_name AS avatar, m.locked, m.hidden_fields, m.also_known_as, m.moved_to"
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


def _json_fields(fields: Sequence[tuple[str, str]]) -> str:
    return orjson.dumps([list(f) for f in fields]).decode()


def _aliases(raw: str | None) -> tuple[str, ...]:
    try:
        data = orjson.loads(raw or "[]")
    except orjson.JSONDecodeError:
        return ()
    return tuple(v for v in data if isinstance(v, str)) if isinstance(data, list) else ()


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
        hidden_fields=_fields(row["hidden_fields"]),
        also_known_as=_aliases(row["also_known_as"]),
        moved_to=row["moved_to"],
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
    created = created_at or time.time()
    member_id = await db.fetchval(
        "INSERT INTO members (username, name, summary, public_key_pem, created_at, role, state, email, "
        "directory_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (username, name, summary, public_key_pem, created, role, state, email, directory_text(name)),
    )
    # Built from what was written, not read back: the upgrade tests call this on older schemas.
    return Member(int(member_id), username, name, summary, public_key_pem, created, role, state=state, email=email)


async def add_many(db: Executor, rows: Sequence[NewMember]) -> list[int | None]:
    """Insert archive members (public_key_pem ''); the new row ids, None where the legacy id was there already."""
    ids = await db.fetchval_each(
        "INSERT INTO members (username, name, summary, public_key_pem, created_at, role, state, email, disabled, "
        "legacy_id, hidden_fields, directory_text) VALUES (?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (legacy_id) DO NOTHING RETURNING id",
        [_new_member_values(r) for r in rows],
    )
    return [optional_int(i) for i in ids]


def _new_member_values(r: NewMember) -> tuple[object, ...]:
    disabled = 1 if r.disabled else 0
    hidden = _json_fields(r.hidden_fields)
    return (
        r.username, r.name, r.summary, r.created_at, r.role, r.state, r.email, disabled, r.legacy_id, hidden,
        directory_text(r.name),
    )  # fmt: skip


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


async def by_ids(db: Executor, member_ids: Sequence[int]) -> dict[int, Member]:
    """Several members by id, in one statement."""
    wanted = list(dict.fromkeys(member_ids))
    if not wanted:
        return {}
    rows = await db.fetchall(f"{_SELECT} WHERE m.id IN ({marks(len(wanted))})", tuple(wanted))
    return {m.id: m for m in (_member(r) for r in rows)}


async def by_usernames(db: Executor, usernames: Sequence[str]) -> dict[str, Member]:
    """Several members by username, in one statement."""
    wanted = list(dict.fromkeys(usernames))
    if not wanted:
        return {}
    rows = await db.fetchall(f"{_SELECT} WHERE m.username IN ({marks(len(wanted))})", tuple(wanted))
    return {m.username: m for m in (_member(r) for r in rows)}


async def by_name(db: Executor, name: str) -> list[Member]:
    """Members with exactly this display name (to match archive commenters)."""
    return [_member(r) for r in await db.fetchall(f"{_SELECT} WHERE m.name = ? ORDER BY m.id", (name,))]


async def by_email(db: Executor, email: str) -> list[Member]:
    """People with this e-mail address (any case), oldest first: an address may belong to several."""
    rows = await db.fetchall(f"{_SELECT} WHERE lower(m.email) = lower(?) AND m.kind = 'person' ORDER BY m.id", (email,))
    return [_member(r) for r in rows]


async def count(db: Executor) -> int:
    """How many members (people, not group actors; erased accounts not counted) there are."""
    return int(await db.fetchval("SELECT COUNT(*) FROM members WHERE kind = 'person' AND state <> ?", (DELETED,)))


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
        (name, summary, _json_fields(fields), avatar_id, 1 if locked else 0, directory_text(name, fields), member_id),
    )


async def set_hidden_fields(db: Executor, member_id: int, fields: Sequence[tuple[str, str]]) -> None:
    """Replace the profile fields only the member sees (what is left of the archive's answers)."""
    await db.execute("UPDATE members SET hidden_fields = ? WHERE id = ?", (_json_fields(fields), member_id))


async def set_email(db: Executor, member_id: int, email: str | None) -> None:
    """A member's e-mail address (for invitations and notification mail; never published)."""
    await db.execute("UPDATE members SET email = ? WHERE id = ?", (email, member_id))


async def set_aliases(db: Executor, member_id: int, aliases: Sequence[str]) -> None:
    """The actor ids of a member's other accounts (published as alsoKnownAs)."""
    await db.execute(
        "UPDATE members SET also_known_as = ? WHERE id = ?", (orjson.dumps(list(aliases)).decode(), member_id)
    )


async def set_moved_to(db: Executor, member_id: int, target: str | None) -> None:
    """The account a member moved to (published as movedTo), or None."""
    await db.execute("UPDATE members SET moved_to = ? WHERE id = ?", (target, member_id))


async def erase(db: Executor, member_id: int, now: float) -> None:
    """Erase what the row says about a person; the row stays (state 'deleted'), so the username stays taken.

    The public key stays until the Delete of the actor has gone out (see retire_key); the
    legacy id stays, so importing the archive again does not bring the account back.
    """
    await db.execute(
        "UPDATE members SET state = ?, deleted_at = ?, disabled = 1, name = '', summary = '', fields = '[]', "
        "directory_text = '', "
        "avatar_id = NULL, email = NULL, password_hash = NULL, role = 'member', locked = 0, "
        "also_known_as = '[]', moved_to = NULL WHERE id = ?",
        (DELETED, now, member_id),
    )


async def is_erased(db: Executor, username: str) -> bool:
    """Whether the member with this username was erased."""
    return bool(await db.fetchval("SELECT 1 FROM members WHERE username = ? AND state = ?", (username, DELETED)))


async def erased_with_keys(db: Executor) -> list[tuple[int, str]]:
    """(id, username) of erased members whose key pair is still kept (for the Delete of their actor)."""
    rows = await db.fetchall(
        "SELECT id, username FROM members WHERE state = ? AND public_key_pem <> '' ORDER BY id", (DELETED,)
    )
    return [(int(r[0]), str(r[1])) for r in rows]


async def retire_key(db: Executor, member_id: int) -> None:
    """Forget an erased member's public key (its private key file is removed by the caller)."""
    await db.execute("UPDATE members SET public_key_pem = '' WHERE id = ? AND state = ?", (member_id, DELETED))


async def admins_left(db: Executor, but: int) -> int:
    """How many admins who can sign in there are besides one member."""
    return int(
        await db.fetchval(
            "SELECT COUNT(*) FROM members WHERE role = 'admin' AND kind = 'person' AND state = 'active' "
            "AND disabled = 0 AND id <> ?",
            (but,),
        )
    )


async def deleted_at(db: Executor, member_id: int) -> float | None:
    """When an account was erased, or None."""
    return optional_float(await db.fetchval("SELECT deleted_at FROM members WHERE id = ?", (member_id,)))


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
