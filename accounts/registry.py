"""Fields that higher apps add to the caller's own user object (login, register, /users/me/).

accounts imports no domain app; a domain app registers a field in its AppConfig.ready(), so the
import arrow keeps pointing down (shared/STYLE.md).
"""

from rest_framework import serializers

_current_user_fields: dict[str, type[serializers.Field]] = {}


def current_user_field_register(name: str, field_class: type[serializers.Field]) -> None:
    """`field_class()` is read-only and renders from the user itself (its source is "*")."""
    _current_user_fields[name] = field_class


def current_user_fields() -> dict[str, serializers.Field]:
    return {name: field_class() for name, field_class in _current_user_fields.items()}
