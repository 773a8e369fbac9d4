"""Anonymous reads of the course catalogue, warm and cold, against the true floor (bench/floor/).

The list (`GET /api/courses/?page_size=9`) and one course's outline (`GET /api/courses/{id}/`, 5
lectures of 4 topics) on our gunicorn, whose answers the shared Redis cache keeps (warm), and on a
second gunicorn of the same stack with `CATALOGUE_CACHE_SECONDS=0`, which computes every answer
from the database as the first read after a write does (cold). Afterwards the warm answers must
still be right: an ETag that turns a repeated request into a 304, and a committed write seen by
the very next request (GitHub issue 17).
"""

from bench import harness, load, servers
from bench.harness import expect, figure
from bench.load import BASE_HEADERS, Target
from tools import clients, cpu, fixtures
from tools.app import SERVER_NAME
from tools.clients import Client
from tools.fixtures import Check
from tools.procs import script_main

PAGE_SIZE = 9
LIST_PATH = f"/api/courses/?page_size={PAGE_SIZE}"
LECTURES, TOPICS = 5, 4
TARGET_WARM_RATIO, TARGET_COLD_RATIO = 0.35, 0.15
COLD = "cold"
# What nginx passes on (`Host $host`): both servers then write the same absolute links.
HOST_HEADER = {"Host": SERVER_NAME}
HEADERS = {**BASE_HEADERS, **HOST_HEADER}
GROUPS = ("gunicorn", COLD, "floor", "postgres", "redis", "clients")


def detail_path(course_id: int) -> str:
    return f"/api/courses/{course_id}/"


@fixtures.closing
def catalogue_create(count: int) -> None:
    """`count` published courses of one tutor in one category, each of LECTURES lectures of
    TOPICS topics (one of each type, the first a preview); bulk-created, so no signal fires."""
    from accounts.models import Role
    from courses.models import Category, Course, Lecture, Topic, TopicType

    tutor = fixtures.users("bench-catalogue-tutor-", 1, role=Role.TUTOR, name="Bench Tutor")[0]
    category = Category.objects.create(name="Bench catalogue", slug="bench-catalogue")
    courses = Course.objects.bulk_create(
        Course(title=f"Catalogue course {k + 1}", short_description="A course of the bench.",
               description="What the course teaches, in a paragraph. " * 8, category=category,
               tutor=tutor, price=10_000 * (k % 4), is_published=True)
        for k in range(count)
    )  # fmt: skip
    lectures = Lecture.objects.bulk_create(
        Lecture(course=course, title=f"Lecture {p + 1}", position=p)
        for course in courses
        for p in range(LECTURES)
    )
    kinds = list(TopicType)
    Topic.objects.bulk_create(
        Topic(lecture=lecture, title=f"Topic {p + 1}", position=p, type=kinds[p % len(kinds)],
              is_preview=p == 0, body="The topic's text.")
        for lecture in lectures
        for p in range(TOPICS)
    )  # fmt: skip
    fixtures.analyze()


def get(client: Client, path: str, headers: dict | None = None):
    return client.send(path, "GET", path, headers={**HOST_HEADER, **(headers or {})})


def sanity_check(warm: Client, cold: Client, courses: int) -> int:
    """Fail before loading if the URLs would not measure what they claim to; the id of the
    course whose outline is loaded (the first listed)."""
    listed = expect(warm, 200, "GET", LIST_PATH, headers=HOST_HEADER).data
    if listed["count"] != courses or len(listed["results"]) != min(PAGE_SIZE, courses):
        raise RuntimeError(f"the list counts {listed['count']}, {len(listed['results'])} listed")
    course_id = listed["results"][0]["id"]
    outline = expect(warm, 200, "GET", detail_path(course_id), headers=HOST_HEADER).data
    if [len(lecture["topics"]) for lecture in outline["lectures"]] != [TOPICS] * LECTURES:
        raise RuntimeError(f"course #{course_id} is not {LECTURES} lectures of {TOPICS} topics")
    for path in (LIST_PATH, detail_path(course_id)):
        if get(warm, path).body != get(cold, path).body:
            raise RuntimeError(f"GET {path}: the warm and the cold server answer other bodies")
    return course_id


def catalogue_targets(floor_port: int, cold_port: int, course_id: int) -> list[Target]:
    """The floor, then the list and the outline on each server."""
    detail, cold = detail_path(course_id), {"port": cold_port, "server": COLD}
    return [
        load.floor_target(floor_port),
        Target("list warm", LIST_PATH, HEADERS),
        Target("list cold", LIST_PATH, HEADERS, **cold),
        Target("detail warm", detail, HEADERS),
        Target("detail cold", detail, HEADERS, **cold),
    ]


def etag_checks(warm: Client, paths: tuple[str, ...]) -> list[Check]:
    """Each 200 carries an ETag, and sending it back as If-None-Match gets an empty 304."""
    checks = []
    for path in paths:
        first = get(warm, path)
        etag = first.header("ETag")
        again = get(warm, path, {"If-None-Match": etag}) if etag else None
        ok = first.status == 200 and again is not None and again.status == 304 and not again.body
        answer = f"{again.summary}, {len(again.body)} bytes" if again else "not sent"
        checks.append(Check(
            f"GET {path}: ETag, then If-None-Match gets an empty 304", ok,
            f"{first.summary}, ETag {etag}, Cache-Control {first.header('Cache-Control')}; "
            f"If-None-Match: {answer}",
        ))  # fmt: skip
    return checks


@fixtures.closing
def title_change(course_id: int) -> str:
    """A committed write through the ORM: save() in a transaction, so post_save fires and the
    cache is invalidated on commit. The new title."""
    from django.db import transaction

    from courses.models import Course

    course = Course.objects.get(pk=course_id)
    course.title = f"{course.title} (edited)"
    with transaction.atomic():
        course.save()
    return course.title


def write_checks(warm: Client, cold: Client, course_id: int, title: str) -> list[Check]:
    """The very next warm requests after `title_change` show the title, and equal the cold ones."""
    paths = (LIST_PATH, detail_path(course_id))
    listed, outline = (get(warm, path) for path in paths)
    rows = (listed.data or {}).get("results", [])
    listed_title = next((row["title"] for row in rows if row["id"] == course_id), None)
    outline_title = (outline.data or {}).get("title")
    fresh = [get(cold, path).body for path in paths]
    return [
        Check("the list shows a committed title at once", listed_title == title,
              f"{listed.summary}, {listed_title!r}"),
        Check("the outline shows it at once", outline_title == title,
              f"{outline.summary}, {outline_title!r}"),
        Check("after the write, warm bodies = cold bodies", [listed.body, outline.body] == fresh),
    ]  # fmt: skip


def ratio_figures(targets: list[Target], valid: bool, warm_valid: bool) -> list[dict]:
    """Each endpoint on each server over the floor, judged: the warm ones only if their
    answers were right after a write."""
    floor, *ours = targets
    rows = []
    for target in ours:
        cold = target.server == COLD
        goal = TARGET_COLD_RATIO if cold else TARGET_WARM_RATIO
        ratio, judged = load.ratio(target, floor), valid and (cold or warm_valid)
        name = f"{target.label} / floor throughput ratio"
        rows.append(figure(name, f"{ratio:.2f}", f">= {goal:.2f}", ratio >= goal, judged))
    return rows


def shown_figures(targets: list[Target], share: float) -> list[dict]:
    """Throughput, CPU and latency of every target, not judged."""
    each = " / ".join(target.label for target in targets)
    return [
        figure(f"req/s, {each}", " / ".join(f"{t.rps:.0f}" for t in targets)),
        figure(f"gunicorn CPU ms per response (each server's own), {each}",
               " / ".join(f"{t.cpu_ms():.2f}" for t in targets)),
        figure(f"p50 / p99 latency, {each}",
               ", ".join(f"{t.percentile_ms(50):.1f} / {t.percentile_ms(99):.1f}" for t in targets)
               + " ms"),
        figure("host CPU taken by other processes during the catalogue run", f"{share:.0%}"),
    ]  # fmt: skip


def main() -> int:
    parser = harness.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=50, help="published courses (50)")
    args = harness.parse_args(parser, ("courses",))
    plan = load.Plan.from_args(args)
    with (
        servers.served(args) as running,
        servers.floor_server(args, running) as floor_port,
        servers.second_server(args, running, COLD, CATALOGUE_CACHE_SECONDS="0") as cold_port,
    ):
        catalogue_create(args.courses)
        harness.print_setup(args, plan, floor_port=floor_port)
        print(f"cold: the same gunicorn command with CATALOGUE_CACHE_SECONDS=0, port {cold_port}")
        warm, cold = Client(running.gunicorn_ports[0]), Client(cold_port)
        course_id = sanity_check(warm, cold, args.courses)
        targets = catalogue_targets(floor_port, cold_port, course_id)
        with clients.pool(args.concurrency) as pool:
            load.measure(pool, running, targets, plan)
        etags = etag_checks(warm, (LIST_PATH, detail_path(course_id)))
        writes = write_checks(warm, cold, course_id, title_change(course_id))
        warm.close()
        cold.close()

    load.print_targets(targets)
    rows = [(t.label, t.cpu, t.responses) for t in targets]
    share = cpu.print_table(rows, GROUPS, "cold: the uncached gunicorn; floor: the floor's")
    print("consistency of the warm server after the load:")
    etags_ok, writes_ok = fixtures.print_checks(etags), fixtures.print_checks(writes)
    consistent = etags_ok and writes_ok
    errors = sum(t.all_errors for t in targets)
    valid = errors == 0 and all(t.responses for t in targets)
    passed = sum(check.ok is True for check in [*etags, *writes])
    harness.report(args, [
        *ratio_figures(targets, valid, writes_ok),
        *shown_figures(targets, share),
        figure("non-2xx/failed responses in the catalogue run, warm-up included", errors, "0",
               errors == 0),
        figure("consistency: ETag and 304; a committed write seen at once",
               f"{passed} of {len(etags) + len(writes)} checks", "all", consistent),
    ])  # fmt: skip
    return 0 if valid and consistent else 1


if __name__ == "__main__":
    script_main(main)
