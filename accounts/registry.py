"""Fields that higher apps add to the caller's own user object (login, register, /users/me/),
read-only or writable through PATCH /api/users/me/; see core.registry.

Values are cached apart from the user (accounts.auth.cache): an app whose value changes for some
users announces it with `current_user_contributions_changed(user_ids)`.
"""

from collections.abc import Callable, Iterable

from core.announcements import Announcement
from core.registry import FieldRegistry

current_user = FieldRegistry()
current_user_field_register = current_user.register
current_user_schema_fields = current_user.schema_fields
current_user_contributions = current_user.contributions


def current_user_contributions_changed(user_ids: Iterable[int]) -> None:
    """Call inside the transaction that changed a contributed value: the cached values of these
    users are dropped once it commits, so the next render computes them afresh."""
    # Imported here: the cache reads this module's contributions.
    from accounts.auth.cache import user_contributions_forget_after_commit

    user_contributions_forget_after_commit(user_ids)


# Writable ones (PATCH /api/users/me/): the input field, and apply(*, user, value) -> None, which
# runs inside the profile update's transaction and validates its own value.
profile_inputs = FieldRegistry()
profile_input_register = profile_inputs.register
profile_input_fields = profile_inputs.schema_fields


def profile_input_apply(name: str) -> Callable[..., None]:
    return dict(profile_inputs.contributions())[name]


# Login sessions ended (logout, logout-all, password change or reset, deactivation, refresh token
# reuse): listeners get `session_ids` once the revocation is committed.
sessions_ended = Announcement("sessions_ended")
