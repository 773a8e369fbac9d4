"""Output shapes of the courses endpoints. Nothing here carries premium content except
TopicContentSerializer, which only an entitled caller ever gets."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import CustomUser
from core.files import PublicFileUrlField, file_public_url
from core.serializers import datetime_text
from courses.models import (
    Category,
    Choice,
    Course,
    Curriculum,
    Enrollment,
    Lecture,
    Question,
    Topic,
    TopicProgress,
)
from courses.registry import topic_content_fields
from courses.services.catalogue import COURSE_FIELDS

# The catalogue's shapes are declared as ModelSerializers (the schema and the field types come
# from them) and rendered by hand: DRF builds every field of a ModelSerializer anew for each
# request, which cost more than the catalogue's queries. courses/tests/test_serializers.py holds
# each rendering to what DRF's own would give.


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ("id", "name", "slug")

    def to_representation(self, category: Category) -> dict:
        return {"id": category.pk, "name": category.name, "slug": category.slug}


class TutorSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomUser
        fields = ("id", "username", "name")

    def to_representation(self, tutor: CustomUser) -> dict:
        return {"id": tutor.pk, "username": tutor.username, "name": tutor.name}


def _course_summary(course: Course, request) -> dict:
    """The fields a course's list item and outline share, in the list item's order."""
    category = course.category
    return {
        "id": course.pk,
        "title": course.title,
        "short_description": course.short_description,
        "category": CategorySerializer().to_representation(category) if category else None,
        "skill_level": course.skill_level,
        "price": course.price,
        "thumbnail": file_public_url(course.thumbnail, request),
        "tutor": TutorSerializer().to_representation(course.tutor),
        "is_published": course.is_published,
    }


class CourseListItemSerializer(serializers.ModelSerializer):
    category = CategorySerializer(read_only=True, allow_null=True)
    tutor = TutorSerializer(read_only=True)
    thumbnail = PublicFileUrlField()
    lecture_count = serializers.IntegerField(read_only=True)
    topic_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Course
        fields = (
            "id",
            "title",
            "short_description",
            "category",
            "skill_level",
            "price",
            "thumbnail",
            "tutor",
            "is_published",
            "lecture_count",
            "topic_count",
            "created_at",
        )
        read_only_fields = fields

    def to_representation(self, course: Course) -> dict:
        return {
            **_course_summary(course, self.context.get("request")),
            "lecture_count": course.lecture_count,  # type: ignore[attr-defined]
            "topic_count": course.topic_count,  # type: ignore[attr-defined]
            "created_at": datetime_text(course.created_at),
        }


class TopicOutlineSerializer(serializers.ModelSerializer):
    class Meta:
        model = Topic
        fields = ("id", "title", "position", "type", "is_preview")
        read_only_fields = fields

    def to_representation(self, topic: Topic) -> dict:
        return {
            "id": topic.pk,
            "title": topic.title,
            "position": topic.position,
            "type": topic.type,
            "is_preview": topic.is_preview,
        }


class LectureOutlineSerializer(serializers.ModelSerializer):
    topics = TopicOutlineSerializer(many=True, read_only=True)

    class Meta:
        model = Lecture
        fields = ("id", "title", "position", "topics")
        read_only_fields = fields

    def to_representation(self, lecture: Lecture) -> dict:
        topic = TopicOutlineSerializer()
        return {
            "id": lecture.pk,
            "title": lecture.title,
            "position": lecture.position,
            "topics": [topic.to_representation(each) for each in lecture.topics.all()],
        }


class CourseDetailSerializer(serializers.ModelSerializer):
    category = CategorySerializer(read_only=True, allow_null=True)
    tutor = TutorSerializer(read_only=True)
    thumbnail = PublicFileUrlField()
    lectures = LectureOutlineSerializer(many=True, read_only=True)

    class Meta:
        model = Course
        fields = (
            "id",
            "title",
            "short_description",
            "description",
            "category",
            "skill_level",
            "price",
            "thumbnail",
            "tutor",
            "is_published",
            "created_at",
            "updated_at",
            "lectures",
        )
        read_only_fields = fields

    def to_representation(self, course: Course) -> dict:
        # Set by courses.selectors.catalogue_sql.course_outline; the writes answer from the tree.
        rows = getattr(course, "outline_rows", None)
        if rows is None:
            lecture = LectureOutlineSerializer()
            lectures = [lecture.to_representation(each) for each in course.lectures.all()]
        else:
            lectures = _lectures_of_rows(rows)
        fields = {
            **_course_summary(course, self.context.get("request")),
            "description": course.description,
            "created_at": datetime_text(course.created_at),
            "updated_at": datetime_text(course.updated_at),
            "lectures": lectures,
        }
        return {name: fields[name] for name in self.Meta.fields}


def _lectures_of_rows(rows: list[tuple]) -> list[dict]:
    """LectureOutlineSerializer's shape from the outline's rows (lectures and topics in order)."""
    lectures: dict[int, dict] = {}
    topic_fields = TopicOutlineSerializer.Meta.fields
    for lecture_id, title, position, *topic in rows:
        lecture = lectures.get(lecture_id)
        if lecture is None:
            lecture = {"id": lecture_id, "title": title, "position": position, "topics": []}
            lectures[lecture_id] = lecture
        if topic[0] is not None:
            lecture["topics"].append(dict(zip(topic_fields, topic, strict=True)))
    return list(lectures.values())


class CurriculumCourseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Course
        fields = ("id", "title", "price", "skill_level")
        read_only_fields = fields


class CurriculumSerializer(serializers.ModelSerializer):
    tutor = TutorSerializer(read_only=True)
    courses = serializers.SerializerMethodField()

    class Meta:
        model = Curriculum
        fields = ("id", "title", "description", "price", "tutor", "is_published", "courses")
        read_only_fields = fields

    @extend_schema_field(CurriculumCourseSerializer(many=True))
    def get_courses(self, curriculum: Curriculum) -> list[dict[str, Any]]:
        # In order, from the prefetched through rows (curriculum_list).
        links = curriculum.curriculumcourse_set.all()
        serializer = CurriculumCourseSerializer()
        return [serializer.to_representation(link.course) for link in links]


class ChoiceEditSerializer(serializers.ModelSerializer):
    class Meta:
        model = Choice
        fields = ("id", "text", "is_correct")
        read_only_fields = fields


class QuestionEditSerializer(serializers.ModelSerializer):
    choices = ChoiceEditSerializer(many=True, read_only=True)

    class Meta:
        model = Question
        fields = ("id", "prompt", "explanation", "choices")
        read_only_fields = fields


class TopicEditSerializer(serializers.ModelSerializer):
    questions = QuestionEditSerializer(many=True, read_only=True)

    class Meta:
        model = Topic
        fields = ("id", "title", "type", "is_preview", "body", "questions")
        read_only_fields = fields


class LectureEditSerializer(serializers.ModelSerializer):
    topics = TopicEditSerializer(many=True, read_only=True)

    class Meta:
        model = Lecture
        fields = ("id", "title", "topics")
        read_only_fields = fields


class CourseEditSerializer(serializers.ModelSerializer):
    """The course as its tutor edits it, answers included: exactly the body PUT accepts (less
    the staff-only `tutor`), so it can be changed and sent back as it is."""

    category: serializers.SlugRelatedField[Category] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    lectures = LectureEditSerializer(many=True, read_only=True)

    class Meta:
        model = Course
        fields = (*COURSE_FIELDS, "lectures")  # what course_save writes
        read_only_fields = fields


class ChoiceForLearnerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Choice
        fields = ("id", "text")
        read_only_fields = fields


class QuestionForLearnerSerializer(serializers.ModelSerializer):
    """A question as a learner sees it before an attempt: which choices are right stays out."""

    choices = ChoiceForLearnerSerializer(many=True, read_only=True)

    class Meta:
        model = Question
        fields = ("id", "prompt", "position", "choices")
        read_only_fields = fields


class TopicContentSerializer(serializers.ModelSerializer):
    course = serializers.IntegerField(source="lecture.course_id", read_only=True)
    lecture = serializers.IntegerField(source="lecture_id", read_only=True)
    questions = QuestionForLearnerSerializer(many=True, read_only=True, source="question_list")

    class Meta:
        model = Topic
        fields = ("id", "title", "type", "is_preview", "course", "lecture", "body", "questions")
        read_only_fields = fields

    def get_fields(self):
        return {**super().get_fields(), **topic_content_fields()}


class TopicProgressSerializer(serializers.ModelSerializer):
    last_opened_at = serializers.DateTimeField(read_only=True)
    completed_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="null until the topic is completed."
    )

    class Meta:
        model = TopicProgress
        fields = ("topic", "last_opened_at", "completed_at")
        read_only_fields = fields


class CourseSummarySerializer(serializers.ModelSerializer):
    category = CategorySerializer(read_only=True, allow_null=True)
    tutor = TutorSerializer(read_only=True)
    thumbnail = PublicFileUrlField()

    class Meta:
        model = Course
        fields = ("id", "title", "category", "skill_level", "thumbnail", "tutor")
        read_only_fields = fields


class ResumeTopicSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class EnrollmentSerializer(serializers.ModelSerializer):
    course = CourseSummarySerializer(read_only=True)
    progress_percent = serializers.SerializerMethodField()
    completed_topics = serializers.IntegerField(source="completed_count", read_only=True)
    total_topics = serializers.IntegerField(source="topic_count", read_only=True)
    resume_topic = serializers.SerializerMethodField()

    class Meta:
        model = Enrollment
        fields = (
            "id",
            "course",
            "source",
            "starts_at",
            "expires_at",
            "progress_percent",
            "completed_topics",
            "total_topics",
            "resume_topic",
        )
        read_only_fields = fields

    def get_progress_percent(self, enrollment) -> float:
        if not enrollment.topic_count:
            return 0.0
        return round(100 * enrollment.completed_count / enrollment.topic_count, 1)

    @extend_schema_field(ResumeTopicSerializer(allow_null=True))
    def get_resume_topic(self, enrollment) -> dict | None:
        if enrollment.resume_topic_id is None:
            return None
        return {"id": enrollment.resume_topic_id, "title": enrollment.resume_topic_title}
