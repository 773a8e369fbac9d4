"""List the accounts whose emails or usernames collide in canonical form (accounts.identity).

Runs on the schema before or after accounts 0003, so it can be used before an upgrade: resolve
every line it prints (change or deactivate the newer account), then migrate."""

from django.core.management.base import BaseCommand, CommandError

from accounts.identity import identity_collisions
from accounts.models import CustomUser


class Command(BaseCommand):
    help = "List accounts whose emails or usernames are the same in canonical form."

    def handle(self, *args, **options):
        rows = CustomUser.objects.order_by("pk").values_list("pk", "email", "username")
        collisions = identity_collisions(rows.iterator())
        for line in collisions:
            self.stdout.write(line)
        if collisions:
            raise CommandError(f"{len(collisions)} collision(s): resolve them, then migrate.")
        self.stdout.write("No collisions.")
