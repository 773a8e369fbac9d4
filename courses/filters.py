"""Query-string filters of the course list (?search=, ?category=, ?mine=...)."""

import django_filters
from django.db.models import Q
from django_filters.rest_framework import BooleanFilter

from courses.models import SkillLevel


class IdBreaksTies(django_filters.OrderingFilter):
    """An ordering that ends with the id, so that courses of one price (or one instant) keep one
    order from page to page."""

    def filter(self, qs, value):
        ordered = super().filter(qs, value)
        return ordered.order_by(*ordered.query.order_by, "id") if value else ordered


class CourseFilter(django_filters.FilterSet):
    """The published catalogue, or with `mine=true` the caller's own courses, drafts included.
    The queryset is what the caller may list at all (courses.selectors.catalogue.course_list)."""

    search = django_filters.CharFilter(
        method="filter_search", max_length=100, help_text="Part of the title or descriptions."
    )
    category = django_filters.CharFilter(field_name="category__slug", help_text="Category slug.")
    skill_level = django_filters.ChoiceFilter(choices=SkillLevel.choices)
    mine = BooleanFilter(
        method="filter_mine", help_text="Tutors: the courses you teach, drafts included."
    )
    ordering = IdBreaksTies(
        fields=("price", "created_at"),
        help_text="Newest first by default; ties (one price, one instant) are ordered by id.",
    )

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("mine"):
            queryset = queryset.filter(is_published=True)
        return super().filter_queryset(queryset)

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(title__icontains=value)
            | Q(short_description__icontains=value)
            | Q(description__icontains=value)
        )

    def filter_mine(self, queryset, name, value):
        if not value:
            return queryset
        user = self.request.user
        return queryset.filter(tutor=user) if user.is_authenticated else queryset.none()
