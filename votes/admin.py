"""Staff tools: polls with their candidates, results as CSV, and a read-only audit of votes."""

import csv
from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.db.models import Sum
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from votes.models import Candidate, Poll, Vote
from votes.selectors import polls_in_state

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _PollTotal(TypedDict):
    total: int | None  # PollAdmin.get_queryset: None for a poll without candidates


class CandidateInline(admin.TabularInline):
    model = Candidate
    fields = ("name", "user", "team", "pitch", "status", "registered_by", "vote_count")
    readonly_fields = ("vote_count", "registered_by")
    autocomplete_fields = ("user", "team")
    extra = 0


class PollStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("upcoming", _("Upcoming")), ("open", _("Open")), ("closed", _("Closed"))]

    def queryset(self, request, queryset):
        state = self.value()
        return polls_in_state(queryset, state=state) if state else queryset


@admin.register(Poll)
class PollAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "part", "opens_at", "closes_at", "ballot", "total_votes")
    list_filter = (PollStateFilter, "kind", "part", "ballot", "results_visibility")
    search_fields = ("title",)
    date_hierarchy = "opens_at"
    inlines = (CandidateInline,)
    actions = ("export_results_csv",)
    readonly_fields = ("created_by", "created_at", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(total=Sum("candidates__vote_count"))

    @admin.display(description=_("votes"), ordering="total")
    def total_votes(self, poll: "WithAnnotations[Poll, _PollTotal]") -> int:
        return poll.total or 0

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Export the results of the selected polls as CSV"))
    def export_results_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="poll-results-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(["poll_id", "poll", "rank", "candidate_id", "candidate", "votes"])
        candidates = Candidate.objects.filter(poll__in=queryset).select_related("poll")
        rows = sorted(candidates, key=lambda c: (c.poll_id, -c.vote_count, c.name, c.pk))
        rank, previous_poll = 0, None
        for candidate in rows:
            rank = 1 if candidate.poll_id != previous_poll else rank + 1
            previous_poll = candidate.poll_id
            writer.writerow(
                [
                    candidate.poll_id,
                    candidate.poll.title,
                    rank,
                    candidate.pk,
                    candidate.name,
                    candidate.vote_count,
                ]
            )
        return response


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    """An audit trail: who voted when and from where. A cast vote cannot be edited or removed."""

    list_display = ("poll", "candidate", "voter", "cast_at", "ip")
    list_filter = ("poll",)
    list_select_related = ("poll", "candidate", "voter")
    search_fields = ("voter__email", "voter__username", "ip", "candidate__name")
    date_hierarchy = "cast_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
