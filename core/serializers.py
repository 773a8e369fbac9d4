"""Serializer fields shared by every app's input serializers."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A string and nothing else: DRF's CharField would quietly turn 12345 into "12345"."""

    default_error_messages = {"not_a_string": _("Not a valid string.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


MAX_ID = 2**63 - 1  # a bigint primary key


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id is a whole number (or its digits, as form fields send it): DRF would look up 7.5 as
    7, True as 1, and crash on ids beyond a bigint on SQLite."""

    def to_internal_value(self, data):
        if isinstance(data, str) and data.isascii() and data.isdigit():
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


_DATETIME = serializers.DateTimeField()


def datetime_text(value) -> str | None:
    """A datetime as DRF's DateTimeField renders it (settings' format and time zone), for the
    serializers that render their hot paths without building fields (see courses.serializers)."""
    return _DATETIME.to_representation(value)
