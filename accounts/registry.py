"""Fields that higher apps add to the caller's own user object (login, register, /users/me/),
read-only or writable through PATCH /api/users/me/; see core.registry.

Values are cached apart from the user (auth_cache): an app whose value changes must call
`accounts.auth_cache.user_contributions_forget_after_commit`.
"""

from collections.abc import Callable

from core.registry import FieldRegistry

current_user = FieldRegistry()
current_user_field_register = current_user.register
current_user_schema_fields = current_user.schema_fields
current_user_contributions = current_user.contributions


# Writable ones (PATCH /api/users/me/): the input field, and apply(*, user, value) -> None, which
# runs inside the profile update's transaction and validates its own value.
profile_inputs = FieldRegistry()
profile_input_register = profile_inputs.register
profile_input_fields = profile_inputs.schema_fields


def profile_input_apply(name: str) -> Callable[..., None]:
    return dict(profile_inputs.contributions())[name]
