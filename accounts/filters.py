"""Query-string filters of the staff user directory (?role=, ?search=)."""

import django_filters
from django.db.models import Q

from accounts.models import CustomUser, Part, Role


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    part = django_filters.ChoiceFilter(choices=Part.choices)
    is_active = django_filters.BooleanFilter()
    search = django_filters.CharFilter(
        method="filter_search", max_length=100, help_text="Part of the email, username or name."
    )

    class Meta:
        model = CustomUser
        fields = ("role", "part", "is_active", "search")

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(email__icontains=value) | Q(username__icontains=value) | Q(name__icontains=value)
        )
