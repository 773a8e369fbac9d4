"""One canonical form of each email and username: the only form stored, compared and looked up.

Two spellings that a person reads as the same account must reach the same row, and two that
differ must never match (PostgreSQL's UPPER matches a dotless i with `i`, LOWER does not). So:

- email: NFKC, the local part case-folded and ASCII only (no SMTPUTF8 mailboxes), the domain
  mapped and encoded by IDNA (UTS #46) to lowercase ASCII: `Name@Bücher.DE` ->
  `name@xn--bcher-kva.de`. Stored in that form; the column is unique.
- username: shown as typed (NFKC); its key `username_canonical` (NFKC_Casefold) is unique and
  is what lookups use. Letters come from one script, or from Latin with Han/Kana/Hangul/Bopomofo
  (UTS #39 "highly restrictive"), digits are ASCII, and a name whose letters all look like ASCII
  letters in another script (`admin` or `ace` spelt with Cyrillic letters) is refused.
"""

import unicodedata

import idna
from confusable_homoglyphs import categories, confusables

EMAIL_MAX_LENGTH = 254
USERNAME_MAX_LENGTH = 30
# Case folding can lengthen a name (`ß` -> `ss`); NFKC was applied to the display form already.
USERNAME_CANONICAL_MAX_LENGTH = 3 * USERNAME_MAX_LENGTH

_NEUTRAL_SCRIPTS = {"COMMON", "INHERITED"}
_CJK_WITH_LATIN = (
    {"LATIN", "HAN", "HIRAGANA", "KATAKANA"},
    {"LATIN", "HAN", "BOPOMOFO"},
    {"LATIN", "HAN", "HANGUL"},
)
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


class InvalidIdentity(ValueError):
    """The value has no canonical form (not an address, a label IDNA refuses, ...)."""


def email_canonical(raw: str) -> str:
    value = unicodedata.normalize("NFKC", raw or "").strip()
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise InvalidIdentity("not an email address")
    local = unicodedata.normalize("NFKC", local.casefold())
    if not local.isascii():
        raise InvalidIdentity("the part before @ must be ASCII")
    return f"{local}@{_domain_canonical(domain)}"


def _domain_canonical(domain: str) -> str:
    if domain.startswith("[") and domain.endswith("]"):  # an address literal: [192.0.2.1]
        if not domain.isascii():
            raise InvalidIdentity("invalid address literal")
        return domain.lower()
    try:
        return idna.encode(domain.rstrip("."), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidIdentity(f"invalid domain: {exc}") from None


def email_canonical_or_none(raw: str) -> str | None:
    try:
        return email_canonical(raw)
    except InvalidIdentity:
        return None


def username_display(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw or "").strip()


def username_canonical(raw: str) -> str:
    return unicodedata.normalize("NFKC", username_display(raw).casefold())


def login_canonical(raw: str) -> str | None:
    """A login names an email if it has an @ (usernames cannot), otherwise a username."""
    if "@" in (raw or ""):
        return email_canonical_or_none(raw)
    return username_canonical(raw) or None


def username_script_problem(username: str) -> str | None:
    """Why the (NFKC) username may be mistaken for another one, or None if it is safe."""
    scripts: set[str] = set()
    letters = []
    for char in username:
        if char.isdigit() and char not in _ASCII_ALNUM:
            return "digits"
        script = categories.alias(char)
        if script not in _NEUTRAL_SCRIPTS:
            scripts.add(script)
            letters.append(char)
    if len(scripts) > 1 and not any(scripts <= allowed for allowed in _CJK_WITH_LATIN):
        return "mixed_scripts"
    if scripts and scripts != {"LATIN"} and all(_looks_like_ascii(char) for char in letters):
        return "confusable"
    return None


def _looks_like_ascii(char: str) -> bool:
    found = confusables.is_confusable(char, preferred_aliases=["latin", "common"])
    if not found:
        return False
    return any(
        glyph["c"].casefold() in _ASCII_ALNUM or glyph["c"] in _ASCII_ALNUM
        for entry in found
        for glyph in entry["homoglyphs"]
    )


def identity_collisions(rows) -> list[str]:
    """Lines describing the accounts that share a canonical email or username.

    `rows` are (id, email, username) tuples, as stored before canonical forms existed; the data
    migration refuses to run while this is not empty (accounts/migrations/0003)."""
    groups: dict[tuple[str, str], list[tuple]] = {}
    for pk, email, username in rows:
        keys = [("username", username_canonical(username))]
        if (canonical := email_canonical_or_none(email)) is not None:
            keys.append(("email", canonical))
        for key in keys:
            groups.setdefault(key, []).append((pk, email, username))
    return [
        f"{kind} {canonical!r}: "
        + ", ".join(f"#{pk} {email!r} {username!r}" for pk, email, username in members)
        for (kind, canonical), members in sorted(groups.items())
        if len(members) > 1
    ]
