"""SOCIAL_AUTH_PIPELINE steps (named in settings) that pick or make the local account of a
provider identity, and the username a new account gets."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.crypto import get_random_string
from django.utils.translation import gettext_lazy as _
from social_core.backends.base import BaseAuth

from accounts.auth.services import auth_sessions_revoke
from accounts.errors import EmailUnverified, SocialEmailRequired
from accounts.identity import USERNAME_MAX_LENGTH, email_canonical_or_none, username_script_problem
from accounts.models import CustomUser, RevokeReason, Role
from accounts.selectors import username_is_available
from accounts.social.providers import email_is_verified

NAME_MAX_LENGTH = CustomUser._meta.get_field("name").max_length
USERNAME_MIN_LENGTH = 2
USERNAME_SUFFIX_LENGTH = 6
_USERNAME_SPACES = re.compile(r"\s+")
_USERNAME_DISALLOWED = re.compile(r"[^\w.-]+")


def associate_by_verified_email(
    *, backend: BaseAuth, details: dict, response: dict, user: CustomUser | None = None, **kwargs
) -> dict | None:
    """Link a new identity to the account holding its email, only if the provider verified it.

    An unverified match is refused rather than turned into a second account: the email column
    is unique, and linking on an unverified email would hand the account to whoever typed it.
    """
    if user is not None:
        return None
    email = details.get("email")
    if not email:
        return None
    canonical = email_canonical_or_none(email)
    existing = CustomUser.objects.filter(email=canonical).first() if canonical else None
    if existing is None:
        return None
    if not email_is_verified(backend=backend, response=response):
        raise EmailUnverified()
    if existing.has_usable_password():
        # Whoever registered this email with a password never proved owning it; the provider
        # just did. Ending that password and its sessions defeats account pre-hijacking; the
        # owner can set a new password through the emailed reset link.
        existing.set_unusable_password()
        existing.save(update_fields=["password"])
        auth_sessions_revoke(user=existing, reason=RevokeReason.SOCIAL_LINKED)
    return {"user": existing, "is_new": False}


def _profile_name(*, details: dict, response: dict) -> str:
    kakao_profile = (response.get("kakao_account") or {}).get("profile") or {}
    name = details.get("fullname") or kakao_profile.get("nickname") or ""
    return str(name).strip()[:NAME_MAX_LENGTH]


def _username_base(source: str) -> str:
    cleaned = _USERNAME_SPACES.sub("_", unicodedata.normalize("NFKC", source).strip())
    return _USERNAME_DISALLOWED.sub("", cleaned)[:USERNAME_MAX_LENGTH]


def username_generate(*, email: str, nickname: str = "") -> str:
    """A free username (canonically) from the email's local part, else the nickname."""
    base = next(
        (
            candidate
            for candidate in (_username_base(email.partition("@")[0]), _username_base(nickname))
            if len(candidate) >= USERNAME_MIN_LENGTH and username_script_problem(candidate) is None
        ),
        "user",
    )
    username = base
    while not username_is_available(username=username):
        suffix = get_random_string(USERNAME_SUFFIX_LENGTH, "abcdefghijklmnopqrstuvwxyz0123456789")
        username = f"{base[: USERNAME_MAX_LENGTH - USERNAME_SUFFIX_LENGTH - 1]}_{suffix}"
    return username


def create_user(
    *,
    backend: BaseAuth,
    details: dict,
    response: dict,
    user: CustomUser | None = None,
    **kwargs,
) -> dict:
    """A student account with an unusable password for an identity no local account has."""
    if user is not None:
        return {"is_new": False}
    if details.get("email") and not email_is_verified(backend=backend, response=response):
        # An account made on an unverified email could later be linked, by that email, to the
        # identity of whoever really owns it.
        raise EmailUnverified(
            _("The provider has not verified your email address. Verify it there and try again.")
        )
    email = email_canonical_or_none(details.get("email") or "") or ""
    try:
        CustomUser._meta.get_field("email").clean(email, None)
    except ValidationError:
        raise SocialEmailRequired() from None
    name = _profile_name(details=details, response=response)
    new_user = CustomUser.objects.create_user(
        email=email,
        username=username_generate(email=email, nickname=name),
        password=None,
        name=name,
        role=Role.STUDENT,
    )
    return {"user": new_user, "is_new": True}
