"""Interface text in Dutch (the default) and English, and choosing between them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

__all__ = ["LANGUAGES", "choose_language", "format_date", "translate"]

LANGUAGES = ("nl", "en")

_TEXT: dict[str, dict[str, str]] = {
    "nl": {
        "recent_posts": "Recente blogposts",
        "no_posts": "Er zijn nog geen blogposts.",
        "no_members_title": "Nog geen leden",
        "no_members": "Deze server heeft nog geen leden. Voeg er een toe met:",
        "then_post": "en publiceer een blogpost met:",
        "by": "door",
        "on": "op",
        "views": "Weergaven",
        "comments": "Reacties",
        "no_comments": "Nog geen reacties.",
        "comment_by": "Reactie van {name} op {date}",
        "reply_how_title": "Reageren",
        "reply_how": (
            "Reageer vanuit je eigen fediverse-account (bijvoorbeeld Mastodon): plak dit adres "
            "in het zoekveld van je app, open de blogpost en kies Beantwoorden."
        ),
        "follow_how": "Volg {name} vanuit Mastodon of een andere fediverse-app met:",
        "original": "origineel",
        "likes": "Favorieten",
        "boosts": "Boosts",
        "newer": "Nieuwer",
        "older": "Ouder",
        "page": "Pagina",
        "posts_by": "Blogposts van {name}",
        "not_found": "Niet gevonden",
        "not_found_text": "Deze pagina bestaat niet (meer).",
        "gone": "Verwijderd",
        "gone_text": "Deze blogpost is verwijderd.",
        "language": "Taal",
        "edited": "bewerkt",
        "feed": "Atom-feed",
        "members": "Leden",
        "content_warning": "Let op",
        "in_reply_to": "Antwoord op {name}",
    },
    "en": {
        "recent_posts": "Recent blog posts",
        "no_posts": "There are no blog posts yet.",
        "no_members_title": "No members yet",
        "no_members": "This server has no members yet. Add one with:",
        "then_post": "and publish a blog post with:",
        "by": "by",
        "on": "on",
        "views": "Views",
        "comments": "Comments",
        "no_comments": "No comments yet.",
        "comment_by": "Comment by {name} on {date}",
        "reply_how_title": "Reply",
        "reply_how": (
            "Reply from your own fediverse account (Mastodon, for example): paste this address "
            "into your app's search field, open the post and choose Reply."
        ),
        "follow_how": "Follow {name} from Mastodon or another fediverse app with:",
        "original": "original",
        "likes": "Favourites",
        "boosts": "Boosts",
        "newer": "Newer",
        "older": "Older",
        "page": "Page",
        "posts_by": "Blog posts by {name}",
        "not_found": "Not found",
        "not_found_text": "This page does not exist (any more).",
        "gone": "Deleted",
        "gone_text": "This blog post has been deleted.",
        "language": "Language",
        "edited": "edited",
        "feed": "Atom feed",
        "members": "Members",
        "content_warning": "Content warning",
        "in_reply_to": "In reply to {name}",
    },
}

# Texts of the member pages, as (key, Dutch, English): each pair kept together.
_PAIRS: tuple[tuple[str, str, str], ...] = (
    ("skip", "Naar de inhoud", "Skip to content"),
    ("menu", "Menu", "Menu"),
    ("write", "Schrijven", "Write"),
    ("my_profile", "Mijn profiel", "My profile"),
    ("settings", "Instellingen", "Settings"),
    ("admin", "Beheer", "Admin"),
    ("login", "Inloggen", "Sign in"),
    ("logout", "Uitloggen", "Sign out"),
    ("join_short", "Word lid", "Join"),
    ("username", "Gebruikersnaam", "Username"),
    ("password", "Wachtwoord", "Password"),
    ("password_again", "Wachtwoord nog een keer", "Password again"),
    ("current_password", "Huidig wachtwoord", "Current password"),
    ("new_password", "Nieuw wachtwoord", "New password"),
    ("login_title", "Inloggen bij {name}", "Sign in to {name}"),
    ("login_wrong", "Gebruikersnaam of wachtwoord klopt niet.", "Wrong username or password."),
    (
        "login_throttled",
        "Te veel mislukte pogingen. Probeer het over een kwartier opnieuw.",
        "Too many failed attempts. Try again in a quarter of an hour.",
    ),
    ("wrong_password", "Het huidige wachtwoord klopt niet.", "The current password is wrong."),
    ("passwords_differ", "De twee wachtwoorden zijn niet gelijk.", "The two passwords differ."),
    ("password_rules", "Minstens 10 tekens.", "At least 10 characters."),
    (
        "password_saved",
        "Je wachtwoord is gewijzigd. Je andere sessies zijn afgemeld.",
        "Your password was changed. Your other sessions were signed out.",
    ),
    ("invite_title", "Kies een wachtwoord", "Choose a password"),
    (
        "invite_for",
        "Welkom, {name}. Kies een wachtwoord om in te loggen als {handle}.",
        "Welcome, {name}. Choose a password to sign in as {handle}.",
    ),
    ("invite_invalid", "Deze uitnodiging is niet (meer) geldig.", "This invitation is not valid (any more)."),
    (
        "members_only",
        "Je moet lid zijn van {name} om reacties te kunnen toevoegen!",
        "You must be a member of {name} to add comments!",
    ),
    ("join_link", "Word lid van {name}", "Join {name}"),
    ("join_title", "Word lid van {name}", "Join {name}"),
    (
        "join_intro",
        "Vraag het lidmaatschap aan. Een beheerder bekijkt je aanvraag en stuurt je een uitnodiging.",
        "Ask to become a member. An admin looks at your request and sends you an invitation.",
    ),
    (
        "join_done",
        "Dank je wel. Je aanvraag is ontvangen; een beheerder neemt contact met je op.",
        "Thank you. Your request has arrived; an admin will get in touch.",
    ),
    ("join_need_name", "Vul je naam in.", "Fill in your name."),
    ("join_need_email", "Vul een geldig e-mailadres in.", "Fill in a valid e-mail address."),
    ("full_name", "Naam", "Name"),
    ("email", "E-mailadres", "E-mail address"),
    ("organisation", "Organisatie", "Organisation"),
    ("motivation", "Motivatie", "Motivation"),
    ("send", "Versturen", "Send"),
    ("save", "Opslaan", "Save"),
    ("saved", "Opgeslagen.", "Saved."),
    ("new_post", "Nieuwe blogpost", "New blog post"),
    ("edit_post", "Blogpost bewerken", "Edit blog post"),
    ("title", "Titel", "Title"),
    ("body", "Tekst (Markdown)", "Text (Markdown)"),
    ("summary_cw", "Inhoudswaarschuwing (optioneel)", "Content warning (optional)"),
    ("post_language", "Taal van de tekst", "Language of the text"),
    ("tags", "Tags, gescheiden door spaties of komma's", "Tags, separated by spaces or commas"),
    ("images", "Afbeeldingen", "Images"),
    ("image_file", "Afbeelding {n}", "Image {n}"),
    ("image_alt", "Beschrijving van afbeelding {n}", "Description of image {n}"),
    ("image_alt_of", "Beschrijving van {name}", "Description of {name}"),
    ("image_remove", "Verwijder {name}", "Remove {name}"),
    ("preview", "Voorbeeld", "Preview"),
    ("save_draft", "Opslaan als concept", "Save as draft"),
    ("publish", "Publiceren", "Publish"),
    ("update", "Bijwerken", "Update"),
    ("draft", "Concept", "Draft"),
    ("drafts", "Mijn concepten", "My drafts"),
    ("edit", "Bewerken", "Edit"),
    ("delete", "Verwijderen", "Delete"),
    ("delete_post", "Deze blogpost verwijderen", "Delete this blog post"),
    ("your_comment", "Jouw reactie", "Your comment"),
    ("add_comment", "Reactie toevoegen", "Add comment"),
    ("reply", "Beantwoorden", "Reply"),
    ("permalink", "Link", "Link"),
    ("reply_title", "Antwoorden", "Reply"),
    ("reply_to_comment", "Antwoord op de reactie van {name}", "Reply to the comment by {name}"),
    ("your_answer", "Jouw antwoord", "Your reply"),
    ("back_to_post", "Terug naar de blogpost", "Back to the blog post"),
    ("tag_title", "Blogposts met #{tag}", "Blog posts tagged #{tag}"),
    ("profile_settings", "Profiel", "Profile"),
    ("profile_summary", "Over mij", "About me"),
    ("avatar", "Profielfoto", "Profile photo"),
    ("field_name", "Veld {n}: naam (bijvoorbeeld Organisatie)", "Field {n}: name (for example Organisation)"),
    ("field_value", "Veld {n}: waarde", "Field {n}: value"),
    ("change_password", "Wachtwoord wijzigen", "Change password"),
    ("requests_title", "Aanvragen voor lidmaatschap", "Membership requests"),
    ("no_requests", "Er zijn geen openstaande aanvragen.", "There are no open requests."),
    ("approve", "Goedkeuren", "Approve"),
    ("reject", "Afwijzen", "Reject"),
    ("username_for", "Gebruikersnaam voor {name} (leeg: automatisch)", "Username for {name} (empty: automatic)"),
    ("approved", "{name} is lid. Stuur deze uitnodiging:", "{name} is a member. Send this invitation:"),
    (
        "request_not_pending",
        "Deze aanvraag is al afgehandeld of bestaat niet.",
        "This request was decided already or does not exist.",
    ),
    ("forbidden", "Geen toegang", "Forbidden"),
    ("forbidden_text", "Je hebt geen toegang tot deze pagina.", "You have no access to this page."),
    ("refused", "Niet gelukt", "Not done"),
    ("refused_text", "Dit verzoek kon niet worden uitgevoerd.", "This request could not be carried out."),
    ("comment_refused", "De reactie kon niet worden geplaatst.", "The comment could not be added."),
    ("title_empty", "Geef de blogpost een titel.", "Give the blog post a title."),
    ("title_long", "De titel is te lang.", "The title is too long."),
    ("body_empty", "De tekst mag niet leeg zijn.", "The text must not be empty."),
    ("body_long", "De tekst is te lang.", "The text is too long."),
    ("summary_long", "De inhoudswaarschuwing is te lang.", "The content warning is too long."),
    ("language_unknown", "Onbekende taal.", "Unknown language."),
    ("too_many_images", "Hoogstens vier afbeeldingen.", "At most four images."),
    ("too_many_tags", "Hoogstens tien tags.", "At most ten tags."),
    ("tag_invalid", "Een tag bestaat uit letters, cijfers en _.", "A tag consists of letters, digits and _."),
    ("image_not_yours", "Een van de afbeeldingen is niet van jou.", "One of the images is not yours."),
    ("name_empty", "Vul een naam in.", "Fill in a name."),
    ("too_many_fields", "Hoogstens vier velden.", "At most four fields."),
    ("field_needs_name", "Elk veld heeft een naam nodig.", "Every field needs a name."),
    ("cannot_write", "Dit account kan niet schrijven.", "This account cannot write."),
    ("post_deleted", "Deze blogpost is verwijderd.", "This blog post has been deleted."),
    ("no_such_post", "Die blogpost bestaat niet.", "That blog post does not exist."),
    ("lang_nl", "Nederlands", "Dutch"),
    ("lang_en", "Engels", "English"),
    ("lang_de", "Duits", "German"),
    ("lang_fr", "Frans", "French"),
    ("lang_fy", "Fries", "Frisian"),
    ("post_published", "Gepubliceerd", "Published"),
    ("copy_url", "Adres van deze blogpost", "Address of this blog post"),
    (
        "image_refused",
        "Deze afbeelding kan niet worden gebruikt (JPEG, PNG, GIF of WebP, tot 10 MB).",
        "This image cannot be used (JPEG, PNG, GIF or WebP, up to 10 MB).",
    ),
    (
        "username_invalid",
        "Een gebruikersnaam heeft 1-30 tekens a-z, 0-9 of _.",
        "A username has 1-30 characters a-z, 0-9 or _.",
    ),
    ("username_taken", "Die gebruikersnaam is al in gebruik.", "That username is taken."),
    ("username_reserved", "Die gebruikersnaam is gereserveerd.", "That username is reserved."),
)
for _key, _nl, _en in _PAIRS:
    _TEXT["nl"][_key] = _nl
    _TEXT["en"][_key] = _en

_MONTHS = {
    "nl": [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


def translate(language: str, key: str, **values: str) -> str:
    """The text for key in language, with {placeholders} filled in."""
    text = _TEXT.get(language, _TEXT["nl"]).get(key) or _TEXT["en"].get(key, key)
    return text.format(**values) if values else text


def choose_language(query_lang: str | None, accept_language: str | None, default: str) -> str:
    """?lang= wins, then the first supported Accept-Language entry by weight, then the default."""
    if query_lang in LANGUAGES:
        return query_lang
    best: tuple[float, str] | None = None
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                continue
        if weight > 0 and (best is None or weight > best[0]):
            best = (weight, primary)
    return best[1] if best else default


def format_date(ts: float, language: str, tz: ZoneInfo) -> str:
    """A date as the old platform wrote it: '20 februari 2014 om 15.16'."""
    dt = datetime.fromtimestamp(ts, tz)
    month = _MONTHS.get(language, _MONTHS["nl"])[dt.month - 1]
    if language == "en":
        return f"{dt.day} {month} {dt.year} at {dt:%H:%M}"
    return f"{dt.day} {month} {dt.year} om {dt:%H.%M}"
