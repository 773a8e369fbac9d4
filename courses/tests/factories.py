import factory

from accounts.tests.factories import TutorFactory, UserFactory
from courses.models import (
    Category,
    Choice,
    Course,
    Enrollment,
    EnrollmentSource,
    Lecture,
    Question,
    SkillLevel,
    Topic,
    TopicType,
)


class CategoryFactory(factory.django.DjangoModelFactory[Category]):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class CourseFactory(factory.django.DjangoModelFactory[Course]):
    """Published, with a price and a tutor."""

    class Meta:
        model = Course

    title = factory.Sequence(lambda n: f"Course {n}")
    short_description = "Learn things."
    category = factory.SubFactory(CategoryFactory)
    skill_level = SkillLevel.BEGINNER
    price = 30000
    tutor = factory.SubFactory(TutorFactory)
    is_published = True


class LectureFactory(factory.django.DjangoModelFactory[Lecture]):
    class Meta:
        model = Lecture

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Lecture {n}")
    position = factory.Sequence(lambda n: n)


class TopicFactory(factory.django.DjangoModelFactory[Topic]):
    class Meta:
        model = Topic

    lecture = factory.SubFactory(LectureFactory)
    title = factory.Sequence(lambda n: f"Topic {n}")
    position = factory.Sequence(lambda n: n)
    type = TopicType.ARTICLE
    body = "Premium article text."


class QuestionFactory(factory.django.DjangoModelFactory[Question]):
    class Meta:
        model = Question

    topic = factory.SubFactory(TopicFactory, type=TopicType.QUIZ)
    prompt = factory.Sequence(lambda n: f"Question {n}?")
    position = factory.Sequence(lambda n: n)


class ChoiceFactory(factory.django.DjangoModelFactory[Choice]):
    class Meta:
        model = Choice

    question = factory.SubFactory(QuestionFactory)
    text = factory.Sequence(lambda n: f"Choice {n}")
    position = factory.Sequence(lambda n: n)
    is_correct = False


class EnrollmentFactory(factory.django.DjangoModelFactory[Enrollment]):
    class Meta:
        model = Enrollment

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)
    source = EnrollmentSource.GRANT


def quiz_topic(*, questions: int = 3, choices: int = 3, **topic_fields) -> Topic:
    """A quiz whose first choice of every question is the correct one."""
    topic = TopicFactory.create(type=TopicType.QUIZ, body="Answer these.", **topic_fields)
    for q in range(questions):
        question = QuestionFactory(topic=topic, position=q)
        for c in range(choices):
            ChoiceFactory(question=question, position=c, is_correct=c == 0)
    return topic
