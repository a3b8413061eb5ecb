"""PURE reading of the old network's archives: the Ning archiver export and pages saved from the old site.

Nothing here touches a database or the network; the importer (a later layer) writes what these
modules read. One concept per module:

- `ning_scan`: the string-aware scanner that splits an export file into top-level records.
- `ning_json`: repair of Ning's not-quite-JSON, streamed record by record, bad records reported.
- `ning_dates`: Ning's dates (and Europe/Amsterdam wall-clock times) as UTC epoch seconds.
- `ning_fields`: lenient typed access to a record's fields, with warnings instead of failures.
- `ning_model`: members, blog posts and comments as frozen records (roles, states, drafts).
- `ning_groups`: groups and discussions, and how they map to topic groups and posts.
- `ning_events`: events, their time zones and their answers (RSVPs).
- `ning_gallery`: photos and albums, videos (embeds as links), music tracks.
- `ning_pages`: the network's own pages and notes.
- `ning_profile`: members' profile answers (About me, fields, what is not imported).
- `ning_media`: the `-local.json` twins, safe local media paths, what a record references.
- `ning_files`: the files of an export folder, read with their `-local` twins.
- `ning_html`: the sanitiser for archived HTML (keeps structure and images).
- `usernames`: stable, valid usernames for the whole member list.
- `saved_page` (entry point), `saved_page_model`, `saved_page_text`, `saved_page_html`,
  `dutch_dates`: pages of the old site saved as text or HTML.
"""

from __future__ import annotations

__all__: list[str] = []
