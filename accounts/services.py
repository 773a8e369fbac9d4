"""Writes of the accounts domain: sign-up, login sessions and their tokens, passwords, profile."""

import uuid
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _
from rest_framework import status

from accounts.auth_cache import session_started, sessions_mark_revoked, users_forget_after_commit
from accounts.models import AuthSession, CustomUser, RevokeReason, Team
from accounts.registry import profile_input_apply
from accounts.selectors import (
    email_is_available,
    user_get_active_by_email,
    user_get_by_login,
    username_is_available,
)
from accounts.tokens import TokenPair, refresh_token_decode, token_not_valid, token_pair_issue
from core.exceptions import ApplicationError
from core.mail import mail_send_after_commit


@dataclass(frozen=True)
class ClientInfo:
    """Where a login comes from, recorded on its session."""

    user_agent: str = ""
    ip: str | None = None


# --- Sessions and tokens ------------------------------------------------------------------------


def auth_session_start(*, user: CustomUser, client: ClientInfo) -> tuple[AuthSession, TokenPair]:
    now = timezone.now()
    session = AuthSession.objects.create(
        user=user,
        refresh_jti=uuid.uuid4().hex,
        created_at=now,
        last_used_at=now,
        expires_at=now + settings.AUTH_SESSION_MAX_AGE,
        user_agent=client.user_agent[:256],
        ip=client.ip,
    )
    CustomUser.objects.filter(pk=user.pk).update(last_login=now)
    session_started(session=session, user=user)
    pair = token_pair_issue(
        user_id=user.pk,
        session_id=session.pk,
        refresh_jti=session.refresh_jti,
        cap=session.expires_at,
    )
    return session, pair


def auth_session_refresh(*, raw_refresh: str, client: ClientInfo) -> TokenPair:
    """Rotate: consume the presented refresh token atomically and issue its one successor.

    The compare-and-set on `refresh_jti` lets exactly one of several concurrent refreshes win.
    A refresh token that was already consumed means it leaked (or a client raced itself): the
    whole session is revoked (RFC 9700 section 4.14.2).
    """
    token = refresh_token_decode(raw_refresh)
    session_id, presented_jti = token["sid"], token["jti"]
    now = timezone.now()
    successor_jti = uuid.uuid4().hex
    rotated = AuthSession.objects.filter(
        pk=session_id,
        user_id=token["user_id"],
        refresh_jti=presented_jti,
        revoked_at__isnull=True,
        expires_at__gt=now,
    ).update(refresh_jti=successor_jti, last_used_at=now, ip=client.ip)
    if not rotated:
        _revoke_if_reused(session_id=session_id, presented_jti=presented_jti, now=now)
        raise token_not_valid()
    session = AuthSession.objects.select_related("user").get(pk=session_id)
    if not session.user.is_active:
        auth_sessions_revoke(user=session.user, reason=RevokeReason.DEACTIVATED)
        raise token_not_valid()
    return token_pair_issue(
        user_id=session.user_id,
        session_id=session.pk,
        refresh_jti=successor_jti,
        cap=session.expires_at,
    )


def _revoke_if_reused(*, session_id, presented_jti: str, now) -> None:
    revoked = (
        AuthSession.objects.filter(pk=session_id, revoked_at__isnull=True, expires_at__gt=now)
        .exclude(refresh_jti=presented_jti)
        .update(revoked_at=now, revoke_reason=RevokeReason.REFRESH_REUSED)
    )
    if revoked:
        sessions_mark_revoked([session_id])


def auth_sessions_revoke(
    *,
    user: CustomUser,
    reason: str,
    session_ids: list | None = None,
    keep_session_id=None,
) -> int:
    """End the user's live sessions (all, or those named); their access tokens die at once."""
    live = AuthSession.objects.filter(user=user, revoked_at__isnull=True)
    if session_ids is not None:
        live = live.filter(pk__in=session_ids)
    if keep_session_id is not None:
        live = live.exclude(pk=keep_session_id)
    with transaction.atomic():
        ids = list(live.select_for_update().values_list("pk", flat=True))
        AuthSession.objects.filter(pk__in=ids).update(
            revoked_at=timezone.now(), revoke_reason=reason
        )
        transaction.on_commit(lambda: sessions_mark_revoked(ids))
    return len(ids)


def auth_session_logout(*, raw_refresh: str, user: CustomUser | None = None) -> None:
    """End the session the refresh token belongs to (and only if it is the caller's)."""
    token = refresh_token_decode(raw_refresh)
    if user is not None and token["user_id"] != user.pk:
        raise ApplicationError(
            "token_not_valid",
            _("This token belongs to another account."),
            status.HTTP_403_FORBIDDEN,
        )
    session = AuthSession.objects.filter(pk=token["sid"], user_id=token["user_id"]).first()
    if session is None or session.refresh_jti != token["jti"] or not session.is_live:
        raise token_not_valid()
    auth_sessions_revoke(user=session.user, reason=RevokeReason.LOGOUT, session_ids=[session.pk])


# --- Login and sign-up --------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _dummy_password_hash(hasher_path: str) -> str:
    return make_password(uuid.uuid4().hex)


def invalid_credentials() -> ApplicationError:
    return ApplicationError(
        "invalid_credentials",
        _("The login or password is incorrect."),
        status.HTTP_401_UNAUTHORIZED,
    )


def user_authenticate(*, login: str, password: str) -> CustomUser:
    """Unknown account, inactive account and wrong password fail identically, in equal time."""
    user = user_get_by_login(login=login)
    if user is None:
        check_password(password, _dummy_password_hash(settings.PASSWORD_HASHERS[0]))
        raise invalid_credentials()
    if not user.check_password(password) or not user.is_active:
        raise invalid_credentials()
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
    mail_send_after_commit(
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
    invalid = ApplicationError(
        "invalid_reset_token", _("This password reset link is invalid or has expired.")
    )
    try:
        user_id = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError):
        raise invalid from None
    with transaction.atomic():
        # The row lock makes two concurrent confirms with one token succeed at most once.
        user = CustomUser.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user is None or not default_token_generator.check_token(user, token):
            raise invalid
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
        raise ApplicationError(
            "team_exists", _("A team with this name already exists."), status.HTTP_409_CONFLICT
        ) from None
