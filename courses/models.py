"""The catalogue (curriculums, courses, lectures, topics, quiz questions), who may study what
(enrollments), and what learners do inside a course (quiz attempts, submissions, progress)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from core.storage import protected_storage


class SkillLevel(models.TextChoices):
    BEGINNER = "beginner", _("Beginner")
    INTERMEDIATE = "intermediate", _("Intermediate")
    ADVANCED = "advanced", _("Advanced")


class TopicType(models.TextChoices):
    VIDEO = "video", _("Video")
    ARTICLE = "article", _("Article")
    QUIZ = "quiz", _("Quiz")
    ASSIGNMENT = "assignment", _("Assignment")


class Category(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)

    class Meta:
        ordering = ("name",)
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class Course(TimeStampedModel):
    title = models.CharField(_("title"), max_length=200)
    short_description = models.CharField(_("short description"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True, max_length=20000)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="courses"
    )
    skill_level = models.CharField(
        _("skill level"), max_length=12, choices=SkillLevel.choices, default=SkillLevel.BEGINNER
    )
    price = models.PositiveIntegerField(_("price (KRW)"), default=0)
    thumbnail = models.ImageField(_("thumbnail"), upload_to="thumbnails/", blank=True)
    tutor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="courses_taught"
    )
    is_published = models.BooleanField(_("published"), default=False, db_index=True)

    class Meta:
        ordering = ("-created_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(skill_level__in=SkillLevel.values), name="course_skill_level_valid"
            )
        ]
        indexes = [models.Index(fields=("is_published", "price"))]

    def __str__(self) -> str:
        return self.title

    @property
    def is_free(self) -> bool:
        return self.price == 0


class Lecture(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lectures")
    title = models.CharField(_("title"), max_length=200)
    position = models.PositiveSmallIntegerField(_("position"))

    class Meta:
        ordering = ("course", "position")
        constraints = [
            models.UniqueConstraint(fields=("course", "position"), name="lecture_position_unique")
        ]

    def __str__(self) -> str:
        return self.title


class Topic(models.Model):
    lecture = models.ForeignKey(Lecture, on_delete=models.CASCADE, related_name="topics")
    title = models.CharField(_("title"), max_length=200)
    position = models.PositiveSmallIntegerField(_("position"))
    type = models.CharField(_("type"), max_length=10, choices=TopicType.choices)
    is_preview = models.BooleanField(
        _("free preview"), default=False, help_text=_("Anyone may study a preview topic.")
    )
    body = models.TextField(
        _("body"),
        blank=True,
        max_length=100000,
        help_text=_("The article, the assignment prompt, or the quiz's introduction."),
    )
    # Not a field: set by selectors.topic_content (the quiz's questions in order, with choices).
    question_list: list["Question"]

    class Meta:
        ordering = ("lecture", "position")
        constraints = [
            models.UniqueConstraint(fields=("lecture", "position"), name="topic_position_unique"),
            models.CheckConstraint(condition=Q(type__in=TopicType.values), name="topic_type_valid"),
        ]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    """A multiple-choice question of a quiz topic; one or more of its choices are correct."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="questions")
    prompt = models.TextField(_("prompt"), max_length=5000)
    position = models.PositiveSmallIntegerField(_("position"))
    explanation = models.TextField(_("explanation"), blank=True, max_length=5000)

    class Meta:
        ordering = ("topic", "position")
        constraints = [
            models.UniqueConstraint(fields=("topic", "position"), name="question_position_unique")
        ]

    def __str__(self) -> str:
        return self.prompt[:60]


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(_("text"), max_length=500)
    position = models.PositiveSmallIntegerField(_("position"))
    is_correct = models.BooleanField(_("correct"), default=False)

    class Meta:
        ordering = ("question", "position")
        constraints = [
            models.UniqueConstraint(fields=("question", "position"), name="choice_position_unique")
        ]

    def __str__(self) -> str:
        return self.text


class Curriculum(TimeStampedModel):
    """A bundle of courses sold at its own price; buying it enrols in each course."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=20000)
    price = models.PositiveIntegerField(_("price (KRW)"), default=0)
    tutor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="curriculums"
    )
    courses = models.ManyToManyField(Course, through="CurriculumCourse", related_name="curriculums")
    is_published = models.BooleanField(_("published"), default=False, db_index=True)

    class Meta:
        ordering = ("-created_at", "id")

    def __str__(self) -> str:
        return self.title


class CurriculumCourse(models.Model):
    curriculum = models.ForeignKey(Curriculum, on_delete=models.CASCADE)
    course = models.ForeignKey(Course, on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ("curriculum", "position")
        constraints = [
            models.UniqueConstraint(
                fields=("curriculum", "course"), name="curriculum_course_unique"
            ),
            models.UniqueConstraint(
                fields=("curriculum", "position"), name="curriculum_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.curriculum_id}#{self.position}: {self.course_id}"


class EnrollmentSource(models.TextChoices):
    PURCHASE = "purchase", _("Purchase")
    GRANT = "grant", _("Granted by staff")
    FREE = "free", _("Free course")


class Enrollment(TimeStampedModel):
    """One grant of the right to study one course, for a while (or for good), from one source:
    an order (`reference` "order:<id>"), staff in the admin, or the demo.

    A user may hold several grants of a course and may study it while any of them is active, so
    taking one source back (a refunded order, a revoked staff grant) leaves the others standing.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    source = models.CharField(_("source"), max_length=10, choices=EnrollmentSource.choices)
    starts_at = models.DateTimeField(_("starts at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    reference = models.CharField(
        _("reference"), max_length=100, blank=True, help_text=_("The order, or who granted it.")
    )

    class Meta:
        ordering = ("-starts_at", "id")
        constraints = [
            # A source grants a course once: an order's grants are written once and revoked
            # together; blank references (ad-hoc staff grants) may repeat.
            models.UniqueConstraint(
                fields=("user", "course", "reference"),
                condition=~Q(reference=""),
                name="enrollment_one_grant_per_source",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=models.F("starts_at")),
                name="enrollment_expires_after_start",
            ),
            models.CheckConstraint(
                condition=Q(source__in=EnrollmentSource.values), name="enrollment_source_valid"
            ),
        ]
        indexes = [models.Index(fields=("user", "course"), name="enrollment_user_course_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.course_id} ({self.reference or self.source})"

    def is_active(self, at=None) -> bool:
        at = at or timezone.now()
        return (
            self.revoked_at is None
            and self.starts_at <= at
            and (self.expires_at is None or self.expires_at > at)
        )


class QuizAttempt(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="quiz_attempts")
    number = models.PositiveSmallIntegerField(_("attempt number"))
    answers = models.JSONField(_("answers"), help_text=_("question id → chosen choice id"))
    correct = models.PositiveSmallIntegerField(_("correct answers"))
    total = models.PositiveSmallIntegerField(_("questions"))
    passed = models.BooleanField(_("passed"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("topic", "user", "number")
        constraints = [
            models.UniqueConstraint(
                fields=("user", "topic", "number"), name="quiz_attempt_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(correct__lte=models.F("total")), name="quiz_attempt_correct_le_total"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.topic_id} #{self.number}"

    @property
    def score(self) -> float:
        return round(100 * self.correct / self.total, 1) if self.total else 0.0


class SubmissionStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    GRADED = "graded", _("Graded")


class Submission(TimeStampedModel):
    """A learner's answer to an assignment; replaced by resubmission until it is graded."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions"
    )
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="submissions")
    text = models.TextField(_("text"), blank=True, max_length=50000)
    file = models.FileField(
        _("file"), storage=protected_storage, upload_to="submissions/%Y/%m/", blank=True
    )
    status = models.CharField(
        max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.SUBMITTED
    )
    grade = models.PositiveSmallIntegerField(_("grade (0-100)"), null=True, blank=True)
    feedback = models.TextField(_("feedback"), blank=True, max_length=20000)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    graded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-updated_at", "id")
        constraints = [
            models.UniqueConstraint(fields=("user", "topic"), name="submission_user_topic"),
            models.CheckConstraint(condition=Q(grade__lte=100), name="submission_grade_max_100"),
            models.CheckConstraint(
                condition=Q(status=SubmissionStatus.SUBMITTED, grade__isnull=True)
                | Q(status=SubmissionStatus.GRADED, grade__isnull=False),
                name="submission_graded_has_grade",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.topic_id} ({self.status})"


class TopicProgress(models.Model):
    """A learner's state in one topic; completed once (quiz passed, assignment submitted,
    article opened, video watched)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="topic_progress"
    )
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="progress")
    last_opened_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "topic"), name="topic_progress_user_topic")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.topic_id}"
