"""Time and SQL queries of writing a whole course tree at the caps, in-process, on PostgreSQL.

`POST /api/courses/` of the largest tree the COURSE_MAX_* settings allow, `PUT` of it renamed and
unchanged, and the audit's 100 x 100 tree the caps refuse; through Django's request handling
without HTTP, queries counted on the connection.
"""

import json
import statistics
import time

from bench import harness
from tools import fixtures
from tools.procs import script_main
from tools.stack import stack


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
                choice = [{"text": f"Choice {ci}", "is_correct": ci == 0} for ci in range(choices)]
                asked = [
                    {"prompt": f"Question {qi}?", "explanation": "Because.", "choices": choice}
                    for qi in range(count)
                ]
                items.append({"title": f"Quiz {li}.{ti}", "type": "quiz", "questions": asked})
            else:
                items.append({"title": f"Topic {li}.{ti}", "type": "article", "body": "Text."})
            number += 1
        tree.append({"title": f"Lecture {li}", "topics": items})
    return {"title": "Bench course tree", "price": 10000, "lectures": tree}


def with_ids(course, body: dict, *, rename: bool) -> dict:
    """`body` naming every stored item by id (as a tutor's editor sends it back)."""
    suffix = " (edited)" if rename else ""

    def named(rows, sent: list[dict], key: str, children=None) -> list[dict]:
        return [{**item, "id": row.pk, key: item[key] + suffix,
                 **(children(row, item) if children else {})}
                for row, item in zip(rows.order_by("position"), sent, strict=True)]  # fmt: skip

    def choices(question, item):
        return {"choices": named(question.choices, item["choices"], "text")}

    def questions(topic, item):
        asked = named(topic.questions, item.get("questions", []), "prompt", choices)
        return {"questions": asked} if asked else {}

    def topics(lecture, item):
        return {"topics": named(lecture.topics, item["topics"], "title", questions)}

    return {**body, "lectures": named(course.lectures, body["lectures"], "title", topics)}


def main() -> int:
    parser = harness.argument_parser(__doc__.splitlines()[0], load=False)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each request (3)")
    parser.add_argument("--lectures", type=int, help="default: COURSE_MAX_LECTURES")
    parser.add_argument("--topics", type=int, help="in all; default: COURSE_MAX_TOPICS")
    parser.add_argument("--questions", type=int, help="in all; default: COURSE_MAX_QUESTIONS")
    parser.add_argument("--per-quiz", type=int, help="default: min(10, QUIZ_MAX_QUESTIONS)")
    parser.add_argument("--choices", type=int, default=4, help="per question (4)")
    args = parser.parse_args()
    with stack(instances=0, with_nginx=False) as running:
        fixtures.django_setup(running.env)
        figures = measure(args)
    if args.json_out:
        args.json_out.write_text(json.dumps(figures))
    return 0


def measure(args) -> list[dict]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from accounts.models import Role
    from courses.models import Course

    lectures = args.lectures or settings.COURSE_MAX_LECTURES
    topics = args.topics or settings.COURSE_MAX_TOPICS
    questions = settings.COURSE_MAX_QUESTIONS if args.questions is None else args.questions
    per_quiz = args.per_quiz or min(10, settings.QUIZ_MAX_QUESTIONS)
    body = tree_body(lectures=lectures, topics=topics, questions=questions, per_quiz=per_quiz,
                     choices=args.choices)  # fmt: skip
    print(
        f"tree: {lectures} lectures, {topics} topics, {questions} questions in quizzes of "
        f"{per_quiz}, {args.choices} choices each = "
        f"{lectures + topics + questions * (1 + args.choices)} rows; body "
        f"{len(json.dumps(body)) / 1024:.0f} KiB"
    )
    tutor = fixtures.users("bench-course-tree-tutor", 1, role=Role.TUTOR)[0]
    token = fixtures.tokens([tutor], "bench/course_tree.py")[0]
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    figures, created = [], []

    def send(method: str, path: str, sent: dict):
        queries = []

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            began = time.perf_counter()
            response = client.generic(
                method, path, json.dumps(sent), "application/json", secure=True
            )
            elapsed = time.perf_counter() - began
        return response, elapsed, len(queries)

    def timed(label: str, run, expected=(200, 201)) -> None:
        times, counts = [], set()
        for _ in range(args.repeat):
            response, elapsed, queries = run()
            if response.status_code not in expected:
                raise RuntimeError(f"{label}: {response.status_code} {response.content[:300]!r}")
            times.append(elapsed)
            counts.add(queries)
        median = statistics.median(times)
        print(f"  {label:<34} {median * 1000:8.0f} ms  {sorted(counts)} queries")
        figures.append({"figure": f"course tree {label} (ms)", "value": round(median * 1000)})
        figures.append({"figure": f"course tree {label} (queries)", "value": max(counts)})

    def create():
        response = send("POST", "/api/courses/", body)
        created.append(response[0].json()["id"])
        return response

    print(f"in-process request handling (no HTTP), median of {args.repeat}:")
    timed("POST (create)", create)
    course = Course.objects.get(pk=created[-1])
    path = f"/api/courses/{course.pk}/"
    unchanged = with_ids(course, body, rename=False)
    bodies = [with_ids(course, body, rename=True), unchanged]

    def update_every_row():
        bodies.reverse()  # renamed, unchanged, renamed...: each run changes every row
        return send("PUT", path, bodies[-1])

    timed("PUT (every item renamed)", update_every_row)
    send("PUT", path, unchanged)
    timed("PUT (unchanged)", lambda: send("PUT", path, unchanged))
    audit = tree_body(lectures=100, topics=100 * 100, questions=0, per_quiz=1, choices=0)
    timed("POST 100 x 100 (over the caps: 400)", lambda: send("POST", "/api/courses/", audit),
          expected=(400,))  # fmt: skip
    return figures


if __name__ == "__main__":
    script_main(main)
