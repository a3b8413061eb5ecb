"""Importers of the old network's archive: the Ning export (`ning`) and pages saved from the old site (`page`).

What the old platform had, and what it becomes here (the reading side is `fediverse_a2.archive`):

- a member (`contributorName`) -> a member with a stable username (`archive.usernames`), the full
  name, the joined date, a role from `level` and its state. Suspended and pending members are
  disabled, members who left are kept as authors of the archive; nobody gets a password (an
  invitation gives one) nor, until first needed, a key pair. The e-mail is kept, never shown.
  The profile photo of the `-local` files becomes the avatar (re-encoded).
- a blog post -> a post: title, sanitised HTML with the images copied (re-encoded), the original
  `published` and `updated`, the category as a tag, attachments copied (images attached, other files
  linked under the post); drafts and queued posts stay drafts of their author.
- a comment -> a comment by its member (or an archive author for a name the member list lacks),
  original date, oldest first.
- a forum discussion -> a post tagged with its category and, in a group, with the group's name and
  in its topic group; its replies are its comments. A group -> a topic group (a Group actor) with
  its members, its creator and admins as its moderators, and a post by its creator in it under the
  group's tag, its wall comments as the comments. A private group is a members-only group: its
  content (state 'group') is for its members only and never federated.
- an album of photos -> a post with each photo as a figure (its description as alt text) and the
  photos' comments; a video -> a post linking to where it is watched (YouTube, Vimeo: never an
  iframe); a music track -> a post with its audio attached (importer/gallery.py).
- the network's pages and notes -> pages of the site, /pages/SLUG (importer/site.py).
- an event -> an event (a post of kind event): its times in UTC (read in its own time zone), place,
  organiser, comments and its members' answers (importer/events.py).
- a member's profile answers -> the summary ("About me") and private profile fields.
- a saved page -> a post by `--author`, its view count carried over, its commenters matched to
  members by full name (else an archive author by that name).

Every imported post and comment is a Note with its original date, its Create stored in the author's
outbox (dated then), fetchable, in its post's replies collection, and never delivered to anyone.
Old ids and addresses answer 301 with the new URL (`web.legacy`, `import map`). Every kind is
counted in the import report (`report.py`): found, imported, already there, skipped with the reason.
"""

from __future__ import annotations

__all__: list[str] = []
