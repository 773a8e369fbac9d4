"""An INSERT that a unique constraint may turn into nothing, in one statement.

`Model.objects.create()` inside `transaction.atomic()`, catching IntegrityError, is Django's way,
and it costs three statements (SAVEPOINT, INSERT, RELEASE) where a request's transaction is
already open. `INSERT ... ON CONFLICT DO NOTHING RETURNING` (PostgreSQL; SQLite 3.35+) says the
same in one: a row another transaction is inserting under the same key is waited for, as a
plain INSERT waits, and then either this row is written or nothing is. Any other error (a
foreign key, a check) still raises.

A row that keeps a count of its kind on the row it points at (a vote and its candidate's
`vote_count`) can have that count raised in the same statement (`count_in`): on PostgreSQL the
INSERT is a data-modifying CTE of the UPDATE, so outside a transaction the pair is one round trip
and one implicit commit instead of BEGIN, INSERT, UPDATE and COMMIT.
"""

from django.db import connections, router, transaction
from django.db.models import F, Model
from django.db.models.signals import post_save, pre_save


def insert_unless_conflict(instance: Model, *, count_in: tuple[str, str] | None = None) -> bool:
    """Write `instance` as a new row and set its pk, or write nothing if the row would break a
    unique constraint: whether it was written. pre_save and post_save are sent as by save().

    `count_in=(foreign_key, counter)`: when the row is written, the `counter` field of the row
    its `foreign_key` points at goes up by one, atomically with the insert."""
    model = type(instance)
    meta = model._meta
    using = router.db_for_write(model, instance=instance)
    connection = connections[using]
    pre_save.send(sender=model, instance=instance, raw=False, using=using, update_fields=None)
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    if meta.pk is None:
        raise TypeError(f"{model.__name__} has no primary key to return")
    values = [
        field.get_db_prep_save(field.pre_save(instance, add=True), connection=connection)
        for field in fields
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # Names from the models' own meta, quoted; every value is a parameter.
    table, pk = quote(meta.db_table), quote(str(meta.pk.column))
    insert = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608  # nosec B608
    insert += f"ON CONFLICT DO NOTHING RETURNING {pk}"
    if count_in is None:
        row = _fetch_one(connection, insert, values)
    else:
        foreign_key, counter = count_in
        field = meta.get_field(foreign_key)
        if connection.vendor == "postgresql":
            row = _fetch_one(connection, _counted(field, counter, insert, quote), values)
        else:  # SQLite has no INSERT inside WITH: two statements, one transaction
            with transaction.atomic(using=using, savepoint=False):
                row = _fetch_one(connection, insert, values)
                if row is not None:
                    target = field.related_model._default_manager.using(using)  # type: ignore[union-attr]
                    counted_pk = getattr(instance, field.attname)  # type: ignore[union-attr]
                    target.filter(pk=counted_pk).update(**{counter: F(counter) + 1})
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = using
    post_save.send(
        sender=model, instance=instance, created=True, update_fields=None, raw=False, using=using
    )
    return True


def _counted(field, counter: str, insert: str, quote) -> str:
    """`insert` as a CTE of the UPDATE that raises `counter` on the row `field` (a foreign key)
    points at; it returns the new row's pk, and no row when the insert wrote nothing (then
    nothing is counted)."""
    target = field.related_model._meta
    target_table, target_pk = quote(target.db_table), quote(str(target.pk.column))
    column, count = quote(str(field.column)), quote(str(target.get_field(counter).column))
    return (
        f"WITH inserted AS ({insert}, {column}) "  # noqa: S608  # nosec B608
        f"UPDATE {target_table} SET {count} = {target_table}.{count} + 1 FROM inserted "
        f"WHERE {target_table}.{target_pk} = inserted.{column} RETURNING inserted.*"
    )


def _fetch_one(connection, sql: str, values: list):
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.fetchone()
