"""Demo teams and accounts (loaded by `manage.py seed_demo`); loading again changes nothing."""

from accounts.models import CustomUser, Part, Role, Team

# Printed on purpose by `make run`: the demo accounts are public.
DEMO_PASSWORD = "demo-pass-1234"  # noqa: S105  # nosec B105
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


def load(*, stdout, style) -> None:
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in DEMO_TEAMS}
    for spec in DEMO_USERS:
        spec = dict(spec)
        team = teams[spec.pop("team")] if "team" in spec else None
        if CustomUser.objects.filter(email=spec["email"]).exists():
            continue
        create = {
            Role.ADMIN: CustomUser.objects.create_superuser,
            Role.TUTOR: CustomUser.objects.create_tutor,
            Role.STUDENT: CustomUser.objects.create_user,
        }[Role(spec.pop("role"))]
        create(password=DEMO_PASSWORD, team=team, **spec)
    stdout.write(style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD})"))
    for spec in DEMO_USERS:
        stdout.write(f"  {spec['role']:<8} {spec['email']:<24} username {spec['username']}")
