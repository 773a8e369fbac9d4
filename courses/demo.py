"""Demo catalogue (loaded by `manage.py seed_demo` after the demo accounts): two courses with a
free preview topic each, a curriculum bundling them, and student1 enrolled in the first.

Prices fit the default ORDER_MAX_TOTAL (50,000 KRW), so each product, the bundle included, can be
bought with the default settings.
"""

from accounts.models import CustomUser
from courses.models import Category, Course, Curriculum, EnrollmentSource
from courses.services.catalogue import course_save, curriculum_save
from courses.services.enrollments import enrollment_grant

PYTHON_TITLE = "Python for the web"
DJANGO_TITLE = "Django REST in practice"
CURRICULUM_TITLE = "Backend track"
PYTHON_PRICE, DJANGO_PRICE, CURRICULUM_PRICE = 20000, 30000, 40000
# The demo's own source of student1's grant: seeding again finds it instead of adding one.
DEMO_REFERENCE = "demo"


def _course_tree(subject: str) -> list[dict]:
    return [
        {
            "title": f"Getting started with {subject}",
            "topics": [
                {"title": "Welcome", "type": "article", "is_preview": True,
                 "body": f"What this {subject} course covers, and how to follow it."},
                {"title": "Setting up", "type": "article",
                 "body": f"Install {subject} and its tools, step by step."},
            ],
        },
        {
            "title": "Check yourself",
            "topics": [
                {"title": "Quiz", "type": "quiz", "body": "Three questions.", "questions": [
                    {"prompt": "Which HTTP method creates a resource?", "choices": [
                        {"text": "POST", "is_correct": True}, {"text": "GET"}]},
                    {"prompt": "Which status means 'not found'?", "choices": [
                        {"text": "404", "is_correct": True}, {"text": "500"}]},
                    {"prompt": "JSON stands for?", "choices": [
                        {"text": "JavaScript Object Notation", "is_correct": True},
                        {"text": "Java Serialized Object Network"}]},
                ]},
                {"title": "Build something", "type": "assignment",
                 "body": "Build a tiny API and submit a link or a zip of the code."},
            ],
        },
    ]  # fmt: skip


def load(*, stdout, style) -> None:
    tutor = CustomUser.objects.get(email="tutor@example.com")
    category, _ = Category.objects.get_or_create(
        slug="programming", defaults={"name": "Programming"}
    )
    courses = []
    products = ((PYTHON_TITLE, "Python", PYTHON_PRICE), (DJANGO_TITLE, "Django", DJANGO_PRICE))
    for title, subject, price in products:
        course = Course.objects.filter(title=title).first() or course_save(
            actor=tutor,
            data={
                "title": title,
                "short_description": f"A practical {subject} course.",
                "category": category,
                "price": price,
                "is_published": True,
                "lectures": _course_tree(subject),
            },
        )
        courses.append(course)
    if not Curriculum.objects.filter(title=CURRICULUM_TITLE).exists():
        curriculum_save(
            actor=tutor,
            data={"title": CURRICULUM_TITLE, "price": CURRICULUM_PRICE, "is_published": True},
            course_ids=[course.pk for course in courses],
        )
    student = CustomUser.objects.get(email="student1@example.com")
    if not student.enrollments.filter(course=courses[0], reference=DEMO_REFERENCE).exists():
        enrollment_grant(
            user=student,
            course=courses[0],
            source=EnrollmentSource.GRANT,
            reference=DEMO_REFERENCE,
        )
    stdout.write(
        style.SUCCESS(
            f"Demo courses: {PYTHON_TITLE}, {DJANGO_TITLE}; curriculum {CURRICULUM_TITLE}"
        )
    )
