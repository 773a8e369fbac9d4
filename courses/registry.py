"""Fields that higher apps add to a topic's content (GET /api/topics/{id}/).

courses imports neither videos nor payments; an app registers a field in its AppConfig.ready(),
so the import arrow keeps pointing down (shared/STYLE.md).
"""

import copy
from collections.abc import Callable
from typing import Any

from rest_framework import serializers

# name -> (a read-only serializer field describing the value for OpenAPI, resolve(topic) -> value)
_topic_content_fields: dict[str, tuple[serializers.Field, Callable[[Any], Any]]] = {}


def topic_content_field_register(
    name: str, field: serializers.Field, resolve: Callable[[Any], Any]
) -> None:
    _topic_content_fields[name] = (field, resolve)


def topic_content_fields() -> dict[str, serializers.Field]:
    """Fresh fields (a field is bound to one serializer) that render resolve(topic)."""
    fields = {}
    for name, (field, resolve) in _topic_content_fields.items():
        field = copy.deepcopy(field)
        field.source = "*"
        field.to_representation = resolve
        fields[name] = field
    return fields
