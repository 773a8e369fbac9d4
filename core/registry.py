"""What higher apps plug into lower ones, without the lower app importing them.

The lower app owns a FieldRegistry; the higher app registers a field in its AppConfig.ready(),
so imports keep pointing down (shared/STYLE.md): `videos` adds `video` to a topic's content and
`avatar` to the caller's user, `votes` adds `voted_polls`. Likewise every app registers what it
purges in the PurgerRegistry (`manage.py purge_expired`).
"""

import copy
from collections.abc import Callable
from typing import Any

from rest_framework import serializers


class FieldRegistry:
    def __init__(self) -> None:
        # name -> (a field describing the value for OpenAPI, the registered callable): for a
        # read-only value resolve(instance) -> value; for a writable one (accounts.registry's
        # profile inputs) apply(*, user, value) -> None.
        self._fields: dict[str, tuple[serializers.Field, Callable[..., Any]]] = {}

    def register(self, name: str, field: serializers.Field, resolve: Callable[..., Any]) -> None:
        self._fields[name] = (field, resolve)

    def contributions(self) -> list[tuple[str, Callable[..., Any]]]:
        return [(name, resolve) for name, (_field, resolve) in self._fields.items()]

    def schema_fields(self) -> dict[str, serializers.Field]:
        # A field is bound to the serializer that uses it: each use needs its own copy.
        return {name: copy.deepcopy(field) for name, (field, _resolve) in self._fields.items()}

    def resolving_fields(self) -> dict[str, serializers.Field]:
        """Fresh fields that render resolve(instance) themselves."""
        fields = {}
        for name, (field, resolve) in self._fields.items():
            field = copy.deepcopy(field)
            field.source = "*"
            # This copy keeps the registered field's type for the schema but renders resolve().
            field.to_representation = resolve  # type: ignore[method-assign]
            fields[name] = field
        return fields


class PurgerRegistry:
    """Jobs that delete what has outlived its retention, run by `manage.py purge_expired`.

    A purger is `purge(*, now, batch_size) -> rows handled`, idempotent, working in batches of
    at most `batch_size` rows; apps register theirs in AppConfig.ready().
    """

    def __init__(self) -> None:
        self._purgers: dict[str, Callable[..., int]] = {}

    def register(self, name: str, purge: Callable[..., int]) -> None:
        self._purgers[name] = purge

    def purgers(self) -> list[tuple[str, Callable[..., int]]]:
        return list(self._purgers.items())


purger_registry = PurgerRegistry()
purger_register = purger_registry.register
