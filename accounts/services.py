"""Writes of the accounts domain: sign-up and login, profile and membership, deactivation,
passwords, teams. Login sessions and their tokens are accounts.auth.services."""

import uuid
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from accounts.auth.cache import users_forget_after_commit
from accounts.auth.services import ClientInfo, auth_session_start, auth_sessions_revoke
from accounts.auth.tokens import TokenPair
from accounts.errors import InvalidCredentials, InvalidResetToken, TeamExists
from accounts.models import CustomUser, RevokeReason, Team
from accounts.registry import profile_input_apply
from accounts.selectors import (
    email_is_available,
    user_get_active_by_email,
    user_get_by_login,
    username_is_available,
)
from core.mail import mail_queue

# --- Login and sign-up --------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _dummy_password_hash(hasher_path: str) -> str:
    return make_password(uuid.uuid4().hex)


def user_authenticate(*, login: str, password: str) -> CustomUser:
    """Unknown account, inactive account and wrong password fail identically, in equal time."""
    user = user_get_by_login(login=login)
    if user is None:
        check_password(password, _dummy_password_hash(settings.PASSWORD_HASHERS[0]))
        raise InvalidCredentials()
    if not user.check_password(password) or not user.is_active:
        raise InvalidCredentials()
    return user


def user_login(*, login: str, password: str, client: ClientInfo) -> tuple[CustomUser, TokenPair]:
    user = user_authenticate(login=login, password=password)
    _session, pair = auth_session_start(user=user, client=client)
    return user, pair


def user_register(
    *,
    email: str,
    username: str,
    password: str,
    client: ClientInfo,
    name: str = "",
) -> tuple[CustomUser, TokenPair]:
    """Part and team stay empty: staff assign them (user_membership_set)."""
    user = CustomUser(email=CustomUser.objects.normalize_email(email), username=username, name=name)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            _session, pair = auth_session_start(user=user, client=client)
    except IntegrityError as exc:
        raise _duplicate_account_error(email=user.email, username=username) from exc
    return user, pair


def _duplicate_account_error(*, email: str, username: str) -> ValidationError:
    fields = {}
    if not email_is_available(email=email):
        fields["email"] = [_("An account with this email already exists.")]
    if not username_is_available(username=username):
        fields["username"] = [_("This username is taken.")]
    return ValidationError(fields or {"non_field_errors": [_("This account already exists.")]})


# --- Profile ------------------------------------------------------------------------------------

PROFILE_FIELDS = ("name", "username", "introduction", "phone")
# Who may vote in which poll follows them (votes), so the voter never sets them: staff do.
MEMBERSHIP_FIELDS = ("part", "team")


def user_update(*, user: CustomUser, data: dict) -> CustomUser:
    """Profile fields the user owns, and the fields other apps registered (e.g. the avatar)."""
    changed = [field for field in PROFILE_FIELDS if field in data]
    contributed = {name: value for name, value in data.items() if name not in PROFILE_FIELDS}
    for field in changed:
        setattr(user, field, data[field])
    if changed:
        user.full_clean(exclude=[f.name for f in user._meta.fields if f.name not in changed])
    try:
        with transaction.atomic():
            if changed:
                user.save(update_fields=changed)
            for name, value in contributed.items():
                profile_input_apply(name)(user=user, value=value)
    except IntegrityError as exc:
        raise ValidationError({"username": [_("This username is taken.")]}) from exc
    if contributed:
        user.contributed = None  # render them afresh
    return user


def user_membership_set(*, user: CustomUser, data: dict) -> CustomUser:
    """Staff place a user in a part and a team (both decide poll eligibility)."""
    changed = [field for field in MEMBERSHIP_FIELDS if field in data]
    for field in changed:
        setattr(user, field, data[field])
    if changed:
        user.save(update_fields=changed)
    return user


def user_deactivate(*, user: CustomUser, reason: str = RevokeReason.DEACTIVATED) -> None:
    with transaction.atomic():
        CustomUser.objects.filter(pk=user.pk).update(is_active=False)
        auth_sessions_revoke(user=user, reason=reason)
        users_forget_after_commit([user.pk])
    user.is_active = False


# --- Passwords ----------------------------------------------------------------------------------


def _new_password_validate(*, user: CustomUser, new_password: str, field: str) -> None:
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def user_password_change(
    *, user: CustomUser, current_password: str, new_password: str, client: ClientInfo
) -> TokenPair:
    """Every session ends, the caller's included; the caller gets a fresh one."""
    if not user.check_password(current_password):
        raise ValidationError({"current_password": [_("The current password is incorrect.")]})
    _new_password_validate(user=user, new_password=new_password, field="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        auth_sessions_revoke(user=user, reason=RevokeReason.PASSWORD_CHANGED)
        _session, pair = auth_session_start(user=user, client=client)
    return pair


def password_reset_request(*, email: str) -> None:
    """Mail a single-use reset link if an active account has this email; silent otherwise.

    Accounts made by social login have no usable password; this is how they get one."""
    user = user_get_active_by_email(email=email)
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = settings.PASSWORD_RESET_URL.format(uid=uid, token=token)
    mail_queue(
        subject=str(_("Reset your password")),
        body=str(
            _("Someone asked to reset the password of %(email)s. To choose a new one, open:")
            % {"email": user.email}
        )
        + f"\n\n{link}\n\n"
        + str(_("If it was not you, ignore this email; your password stays as it is.")),
        to=[user.email],
    )


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> CustomUser:
    """The token is bound to the current password hash and last login, so it works once."""
    try:
        user_id = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError):
        raise InvalidResetToken() from None
    with transaction.atomic():
        # The row lock makes two concurrent confirms with one token succeed at most once.
        user = CustomUser.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user is None or not default_token_generator.check_token(user, token):
            raise InvalidResetToken()
        _new_password_validate(user=user, new_password=new_password, field="new_password")
        user.set_password(new_password)
        user.save(update_fields=["password"])
        auth_sessions_revoke(user=user, reason=RevokeReason.PASSWORD_RESET)
    return user


# --- Teams --------------------------------------------------------------------------------------


def team_create(*, name: str, description: str = "") -> Team:
    try:
        with transaction.atomic():
            return Team.objects.create(name=name, description=description)
    except IntegrityError:
        raise TeamExists() from None
