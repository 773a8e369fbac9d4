"""core.inserts.insert_unless_conflict: one statement that writes a row or, on a unique
conflict, nothing, leaving the transaction usable (what a savepoint bought before)."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from core.inserts import insert_unless_conflict
from core.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


def record(user, key="k-1") -> IdempotencyRecord:
    return IdempotencyRecord(user=user, key=key, fingerprint="f" * 64)


def test_a_new_row_is_written_in_one_statement_with_its_defaults_and_signals(user):
    saved = []

    def receiver(sender, instance, created, **kwargs):
        saved.append((instance.pk, created))

    post_save.connect(receiver, sender=IdempotencyRecord)
    try:
        first = record(user)
        with CaptureQueriesContext(connection) as queries:
            assert insert_unless_conflict(first)
    finally:
        post_save.disconnect(receiver, sender=IdempotencyRecord)
    assert len(queries) == 1
    stored = IdempotencyRecord.objects.get(pk=first.pk)
    assert (stored.key, stored.created_at is not None) == ("k-1", True)
    assert saved == [(first.pk, True)]
    assert not first._state.adding


def test_a_conflict_writes_nothing_and_the_transaction_goes_on(user):
    with transaction.atomic():
        assert insert_unless_conflict(record(user))
        duplicate = record(user)
        assert insert_unless_conflict(duplicate) is False
        assert duplicate.pk is None
        assert IdempotencyRecord.objects.filter(user=user).count() == 1  # still usable


def test_the_same_key_of_another_user_is_no_conflict(user):
    assert insert_unless_conflict(record(user))
    assert insert_unless_conflict(record(UserFactory.create()))


def test_another_constraint_still_raises(user):
    keyless = IdempotencyRecord(user=user, key=None, fingerprint="f")
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_unless_conflict(keyless)
