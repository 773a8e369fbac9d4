"""accounts 0003 rewrites stored emails and usernames in canonical form, and stops, naming the
accounts, when two of them collide."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", "0002_revoke_reason_social_linked")]
AFTER = [("accounts", "0003_canonical_identity")]


@pytest.fixture
def old_schema(transactional_db):
    """The accounts tables as 0002 left them; the latest schema again afterwards."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def _user(apps, pk, email, username):
    return apps.get_model("accounts", "CustomUser").objects.create(
        pk=pk, email=email, username=username, password="!"
    )


def _migrate_forward():
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)


@pytest.mark.postgres
def test_existing_rows_are_rewritten_in_canonical_form(old_schema):
    _user(old_schema, 101, "Jane@BÜCHER.de", "ＪａｎｅＤｏｅ")
    _user(old_schema, 102, "n\u0131me@mail.com", "nime")

    _migrate_forward()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, email, username, username_canonical FROM accounts_customuser "
            "WHERE id IN (101, 102) ORDER BY id"
        )
        assert cursor.fetchall() == [
            (101, "jane@xn--bcher-kva.de", "JaneDoe", "janedoe"),
            (102, "n\u0131me@mail.com", "nime", "nime"),  # no canonical form: kept, reported
        ]


@pytest.mark.postgres
def test_colliding_accounts_stop_the_migration_and_are_named(old_schema):
    _user(old_schema, 201, "sx@mail.com", "sx")
    _user(old_schema, 202, "\u017fx@mail.com", "squatter")

    with pytest.raises(RuntimeError, match=r"#201 'sx@mail.com' 'sx', #202 'ſx@mail.com'"):
        _migrate_forward()

    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM accounts_customuser WHERE id IN (201, 202) ORDER BY id")
        assert cursor.fetchall() == [("sx@mail.com",), ("\u017fx@mail.com",)]
        cursor.execute("DELETE FROM accounts_customuser WHERE id = 202")  # resolved by a person
