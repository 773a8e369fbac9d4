"""Time and SQL queries of writing a whole course tree at the caps, in-process, on PostgreSQL.

Creates a course whose tree is as large as the settings allow (COURSE_MAX_LECTURES lectures,
COURSE_MAX_TOPICS topics, COURSE_MAX_QUESTIONS questions in quizzes of at most
QUIZ_MAX_QUESTIONS, four choices each) with `POST /api/courses/`, then replaces it with
`PUT /api/courses/{id}/`: once with every item renamed (every row updated) and once unchanged;
last, the audit's 100 lectures x 100 topics, which the caps refuse.
Each request goes through the WSGI application (authentication, JSON parsing, validation,
the service, the response) without HTTP in between; the queries are counted on the connection.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.profile_me import wsgi_environ  # noqa: E402

TUTOR_EMAIL = "bench-course-tree-tutor@example.com"


def tree_body(*, lectures: int, topics: int, questions: int, per_quiz: int, choices: int) -> dict:
    """`topics` spread over `lectures`; `questions` in quizzes of `per_quiz`, spread evenly."""
    quizzes = -(-questions // per_quiz) if per_quiz else 0
    quiz_every = max(topics // quizzes, 1) if quizzes else 0
    left, number, tree = questions, 0, []
    for li in range(lectures):
        items = []
        for ti in range(topics // lectures + (1 if li < topics % lectures else 0)):
            if quiz_every and number % quiz_every == 0 and left > 0:
                count = min(per_quiz, left)
                left -= count
                items.append({"title": f"Quiz {li}.{ti}", "type": "quiz", "questions": [
                    {
                        "prompt": f"Question {qi}?",
                        "explanation": "Because.",
                        "choices": [
                            {"text": f"Choice {ci}", "is_correct": ci == 0} for ci in range(choices)
                        ],
                    }
                    for qi in range(count)
                ]})  # fmt: skip
            else:
                items.append({"title": f"Topic {li}.{ti}", "type": "article", "body": "Text."})
            number += 1
        tree.append({"title": f"Lecture {li}", "topics": items})
    return {"title": "Bench course tree", "price": 10000, "lectures": tree}


def with_ids(course, body: dict, *, rename: bool) -> dict:
    """`body` naming every stored item by id (as a tutor's editor sends it back)."""
    suffix = " (edited)" if rename else ""
    lectures = []
    for lecture, sent in zip(course.lectures.order_by("position"), body["lectures"], strict=True):
        topics = []
        for topic, sent_topic in zip(
            lecture.topics.order_by("position"), sent["topics"], strict=True
        ):
            questions = []
            for question, sent_question in zip(
                topic.questions.order_by("position"), sent_topic.get("questions", []), strict=True
            ):
                choices = [
                    {**sent_choice, "id": choice.pk, "text": sent_choice["text"] + suffix}
                    for choice, sent_choice in zip(
                        question.choices.order_by("position"),
                        sent_question["choices"],
                        strict=True,
                    )
                ]
                questions.append(
                    {
                        **sent_question,
                        "id": question.pk,
                        "prompt": sent_question["prompt"] + suffix,
                        "choices": choices,
                    }
                )
            topic_body = {**sent_topic, "id": topic.pk, "title": sent_topic["title"] + suffix}
            if questions:
                topic_body["questions"] = questions
            topics.append(topic_body)
        lectures.append({"id": lecture.pk, "title": sent["title"] + suffix, "topics": topics})
    return {**body, "lectures": lectures}


def send(app, method: str, path: str, token: str, body: dict) -> tuple[int, bytes, float, int]:
    """One request through the WSGI application: status, body, seconds and SQL queries."""
    import io

    from django.db import connection

    raw = json.dumps(body).encode()
    environ = wsgi_environ(
        path, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}, method
    )
    environ["wsgi.input"] = io.BytesIO(raw)
    environ["CONTENT_LENGTH"] = str(len(raw))
    statuses, queries = [], []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    began = time.perf_counter()
    with connection.execute_wrapper(count):
        response = app(environ, lambda status, _headers, *_: statuses.append(status))
        content = b"".join(response)
        response.close()
    elapsed = time.perf_counter() - began
    return int(statuses[0].split()[0]), content, elapsed, len(queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each request (3)")
    parser.add_argument("--lectures", type=int, help="default: COURSE_MAX_LECTURES")
    parser.add_argument("--topics", type=int, help="in all; default: COURSE_MAX_TOPICS")
    parser.add_argument("--questions", type=int, help="in all; default: COURSE_MAX_QUESTIONS")
    parser.add_argument("--per-quiz", type=int, help="default: min(10, QUIZ_MAX_QUESTIONS)")
    parser.add_argument("--choices", type=int, default=4, help="per question (4)")
    parser.add_argument("--database-url", default=harness.DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=harness.DEFAULT_REDIS_URL)
    parser.add_argument("--json-out", type=Path, help="write the figures there as JSON")
    args = parser.parse_args()

    os.environ.update(harness.bench_env(database_url=args.database_url, redis_url=args.redis_url))
    harness.database_ensure(args.database_url)
    harness.redis_clear(args.redis_url)
    harness.django_setup()

    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    from accounts.models import CustomUser, Role
    from accounts.services import ClientInfo, auth_session_start
    from courses.models import Course

    lectures = args.lectures or settings.COURSE_MAX_LECTURES
    topics = args.topics or settings.COURSE_MAX_TOPICS
    questions = settings.COURSE_MAX_QUESTIONS if args.questions is None else args.questions
    per_quiz = args.per_quiz or min(10, settings.QUIZ_MAX_QUESTIONS)
    body = tree_body(
        lectures=lectures,
        topics=topics,
        questions=questions,
        per_quiz=per_quiz,
        choices=args.choices,
    )
    rows = lectures + topics + questions * (1 + args.choices)
    size = len(json.dumps(body))
    print(
        f"tree: {lectures} lectures, {topics} topics, {questions} questions in quizzes of "
        f"{per_quiz}, {args.choices} choices each = {rows} rows; body {size / 1024:.0f} KiB"
    )

    tutor = CustomUser.objects.filter(email=TUTOR_EMAIL).first()
    if tutor is None:
        tutor = CustomUser.objects.create_user(
            email=TUTOR_EMAIL, username="bench-course-tree-tutor", password=None, role=Role.TUTOR
        )
    Course.objects.filter(tutor=tutor).delete()
    _session, pair = auth_session_start(user=tutor, client=ClientInfo(user_agent="bench"))
    app = get_wsgi_application()

    figures = []

    def measure(label: str, run, expected: tuple[int, ...] = (200, 201)) -> None:
        times, counts = [], set()
        for _ in range(args.repeat):
            status, content, elapsed, queries = run()
            if status not in expected:
                raise RuntimeError(f"{label}: {status} {content[:300]!r}")
            times.append(elapsed)
            counts.add(queries)
        median = statistics.median(times)
        print(f"  {label:<34} {median * 1000:8.0f} ms  {sorted(counts)} queries")
        figures.append({"figure": f"course tree {label} (ms)", "value": round(median * 1000)})
        figures.append({"figure": f"course tree {label} (queries)", "value": max(counts)})

    print(f"in-process WSGI call (no HTTP), median of {args.repeat}:")
    created = []

    def create():
        result = send(app, "POST", "/api/courses/", pair.access, body)
        created.append(json.loads(result[1])["id"])
        return result

    measure("POST (create)", create)
    course = Course.objects.get(pk=created[-1])
    renamed = with_ids(course, body, rename=True)
    unchanged = with_ids(course, body, rename=False)
    path = f"/api/courses/{course.pk}/"
    bodies = [renamed, unchanged]

    def update_every_row():
        bodies.reverse()  # renamed, unchanged, renamed...: each run changes every row
        return send(app, "PUT", path, pair.access, bodies[-1])

    measure("PUT (every item renamed)", update_every_row)
    send(app, "PUT", path, pair.access, unchanged)
    measure("PUT (unchanged)", lambda: send(app, "PUT", path, pair.access, unchanged))
    audit = tree_body(lectures=100, topics=100 * 100, questions=0, per_quiz=1, choices=0)
    measure(
        "POST 100 x 100 (over the caps: 400)",
        lambda: send(app, "POST", "/api/courses/", pair.access, audit),
        expected=(400,),
    )
    Course.objects.filter(tutor=tutor).delete()

    if args.json_out:
        args.json_out.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
