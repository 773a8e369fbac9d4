"""Staff tools for the catalogue and for granting or revoking access to courses."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from courses.models import (
    Category,
    Choice,
    Course,
    Curriculum,
    CurriculumCourse,
    Enrollment,
    Lecture,
    Question,
    Submission,
    Topic,
)
from courses.services.enrollments import enrollments_revoke_selected


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class LectureInline(admin.TabularInline):
    model = Lecture
    fields = ("position", "title")
    extra = 0
    show_change_link = True


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("title", "tutor", "category", "skill_level", "price", "is_published")
    list_filter = ("is_published", "skill_level", "category")
    list_select_related = ("tutor", "category")
    search_fields = ("title", "short_description", "tutor__email")
    autocomplete_fields = ("tutor",)
    inlines = (LectureInline,)


class TopicInline(admin.StackedInline):
    model = Topic
    fields = ("position", "title", "type", "is_preview", "body")
    extra = 0
    show_change_link = True


@admin.register(Lecture)
class LectureAdmin(admin.ModelAdmin):
    list_display = ("title", "course", "position")
    list_select_related = ("course",)
    search_fields = ("title", "course__title")
    inlines = (TopicInline,)


class QuestionInline(admin.StackedInline):
    model = Question
    fields = ("position", "prompt", "explanation")
    extra = 0
    show_change_link = True


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("title", "type", "is_preview", "lecture")
    list_filter = ("type", "is_preview")
    list_select_related = ("lecture__course",)
    search_fields = ("title", "lecture__title", "lecture__course__title")
    inlines = (QuestionInline,)


class ChoiceInline(admin.TabularInline):
    model = Choice
    fields = ("position", "text", "is_correct")
    extra = 0


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("prompt", "topic", "position")
    search_fields = ("prompt",)
    inlines = (ChoiceInline,)


class CurriculumCourseInline(admin.TabularInline):
    model = CurriculumCourse
    fields = ("position", "course")
    autocomplete_fields = ("course",)
    extra = 0


@admin.register(Curriculum)
class CurriculumAdmin(admin.ModelAdmin):
    list_display = ("title", "tutor", "price", "is_published")
    list_filter = ("is_published",)
    search_fields = ("title",)
    autocomplete_fields = ("tutor",)
    inlines = (CurriculumCourseInline,)


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    """Adding an enrollment here is how staff grant a course: a grant of its own, next to any
    purchase, so a later refund does not take it away (and revoking it leaves the purchase)."""

    list_display = (
        "user",
        "course",
        "source",
        "reference",
        "starts_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("source", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("user", "course")
    search_fields = ("user__email", "course__title", "reference")
    autocomplete_fields = ("user", "course")
    actions = ("revoke",)

    @admin.action(description=_("Revoke the selected enrollments now"))
    def revoke(self, request, queryset):
        revoked = enrollments_revoke_selected(enrollment_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, _("%d enrollments revoked.") % revoked, messages.SUCCESS)


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("user", "topic", "status", "grade", "updated_at")
    list_filter = ("status",)
    list_select_related = ("user", "topic")
    search_fields = ("user__email", "topic__title")
    readonly_fields = ("user", "topic", "text", "file", "graded_by", "graded_at")
