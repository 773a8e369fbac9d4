"""Demo accounts for a fresh checkout; running it again changes nothing."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import CustomUser, Part, Role, Team

DEMO_PASSWORD = "demo-pass-1234"  # noqa: S105  (printed on purpose: demo accounts)
DEMO_TEAMS = ("Team Apollo", "Team Borealis", "Team Comet", "Team Dynamo", "Team Eclipse")
DEMO_USERS = (
    {"email": "admin@example.com", "username": "admin", "name": "Admin", "role": Role.ADMIN},
    {"email": "tutor@example.com", "username": "tutor", "name": "Tina Tutor", "role": Role.TUTOR},
    {
        "email": "student1@example.com",
        "username": "student1",
        "name": "Sam Student",
        "role": Role.STUDENT,
        "part": Part.FRONTEND,
        "team": DEMO_TEAMS[0],
    },
    {
        "email": "student2@example.com",
        "username": "student2",
        "name": "Sora Student",
        "role": Role.STUDENT,
        "part": Part.BACKEND,
        "team": DEMO_TEAMS[1],
    },
)


class Command(BaseCommand):
    help = "Create the demo teams and users (idempotent) and print how to log in."

    @transaction.atomic
    def handle(self, *args, **options):
        teams = {name: Team.objects.get_or_create(name=name)[0] for name in DEMO_TEAMS}
        for spec in DEMO_USERS:
            spec = dict(spec)
            team = teams.get(spec.pop("team", None))
            user = CustomUser.objects.filter(email=spec["email"]).first()
            if user is None:
                create = {
                    Role.ADMIN: CustomUser.objects.create_superuser,
                    Role.TUTOR: CustomUser.objects.create_tutor,
                    Role.STUDENT: CustomUser.objects.create_user,
                }[spec.pop("role")]
                create(password=DEMO_PASSWORD, team=team, **spec)
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD})"))
        for spec in DEMO_USERS:
            self.stdout.write(
                f"  {spec['role']:<8} {spec['email']:<24} username {spec['username']}"
            )
