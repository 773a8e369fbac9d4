"""An INSERT that a unique constraint may turn into nothing, in one statement.

`Model.objects.create()` inside `transaction.atomic()`, catching IntegrityError, is Django's way,
and it costs three statements (SAVEPOINT, INSERT, RELEASE) where a request's transaction is
already open. `INSERT ... ON CONFLICT DO NOTHING RETURNING` (PostgreSQL; SQLite 3.35+) says the
same in one: a row another transaction is inserting under the same key is waited for, as a
plain INSERT waits, and then either this row is written or nothing is. Any other error (a
foreign key, a check) still raises.
"""

from django.db import connections, router
from django.db.models import Model
from django.db.models.signals import post_save, pre_save


def insert_unless_conflict(instance: Model) -> bool:
    """Write `instance` as a new row and set its pk, or write nothing if the row would break a
    unique constraint: whether it was written. pre_save and post_save are sent as by save()."""
    model = type(instance)
    meta = model._meta
    using = router.db_for_write(model, instance=instance)
    connection = connections[using]
    pre_save.send(sender=model, instance=instance, raw=False, using=using, update_fields=None)
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    if meta.pk is None:
        raise TypeError(f"{model.__name__} has no primary key to return")
    pk_column = str(meta.pk.column)
    values = [
        field.get_db_prep_save(field.pre_save(instance, add=True), connection=connection)
        for field in fields
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # Names from the model's own meta, quoted; every value is a parameter.
    table, returning = quote(meta.db_table), quote(pk_column)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608  # nosec B608
    sql += f"ON CONFLICT DO NOTHING RETURNING {returning}"
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = using
    post_save.send(
        sender=model, instance=instance, created=True, update_fields=None, raw=False, using=using
    )
    return True
