"""Plain records passed between the store, the protocol core and the web layer."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Comment", "Member", "Post", "RemoteAuthor"]


@dataclass(frozen=True)
class Member:
    id: int
    username: str
    name: str
    summary: str
    public_key_pem: str
    created_at: float


@dataclass(frozen=True)
class Post:
    id: int
    member_id: int
    username: str
    author_name: str
    title: str
    body_md: str
    content_html: str
    published: float
    updated: float | None
    deleted_at: float | None
    views: int
    comment_count: int = 0
    likes: int = 0
    boosts: int = 0


@dataclass(frozen=True)
class RemoteAuthor:
    uri: str
    name: str
    handle: str
    url: str | None
    icon: str | None


@dataclass(frozen=True)
class Comment:
    id: int
    ap_id: str
    url: str | None
    post_id: int
    parent_id: int | None
    author: RemoteAuthor
    domain: str
    content_html: str
    summary: str | None
    published: float
    updated: float | None
    local: bool = False
