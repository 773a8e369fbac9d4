"""Fields that higher apps add to the caller's own user object (login, register, /users/me/).

accounts imports no domain app; a domain app registers a field in its AppConfig.ready(), so the
import arrow keeps pointing down (shared/STYLE.md). Values are cached with the user (auth_cache):
an app whose value changes must call `accounts.auth_cache.users_forget_after_commit`.
"""

import copy
from collections.abc import Callable
from typing import Any

from rest_framework import serializers

# name -> (a read-only serializer field describing the value for OpenAPI, resolve(user) -> value)
_current_user_fields: dict[str, tuple[serializers.Field, Callable[[Any], Any]]] = {}


def current_user_field_register(
    name: str, field: serializers.Field, resolve: Callable[[Any], Any]
) -> None:
    _current_user_fields[name] = (field, resolve)


def current_user_schema_fields() -> dict[str, serializers.Field]:
    # Fields are bound to the serializer that uses them: each use needs its own copy.
    return {name: copy.deepcopy(field) for name, (field, _resolve) in _current_user_fields.items()}


def current_user_contributions() -> list[tuple[str, Callable[[Any], Any]]]:
    return [(name, resolve) for name, (_field, resolve) in _current_user_fields.items()]


# Writable ones (PATCH /api/users/me/): name -> (input field, apply(*, user, value) -> None).
# `apply` runs inside the profile update's transaction and validates its own value.
_profile_inputs: dict[str, tuple[serializers.Field, Callable[..., None]]] = {}


def profile_input_register(name: str, field: serializers.Field, apply: Callable[..., None]) -> None:
    _profile_inputs[name] = (field, apply)


def profile_input_fields() -> dict[str, serializers.Field]:
    return {name: copy.deepcopy(field) for name, (field, _apply) in _profile_inputs.items()}


def profile_input_apply(name: str) -> Callable[..., None]:
    return _profile_inputs[name][1]
