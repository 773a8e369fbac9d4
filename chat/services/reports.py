"""Reports of messages, and what staff do with them (the admin's moderation actions)."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.errors import AlreadyReported, InvalidFrame
from chat.models import Membership, MessageReport, ReportReason, ReportStatus
from chat.services.messages import message_for, message_tombstone

DETAIL_MAX_LENGTH = 1000


@transaction.atomic
def message_report(*, user, message_id: int, reason: str, detail: str = "") -> MessageReport:
    """Report a message of a room the user may read. The body is kept as it was
    reported, so that a later edit or deletion does not hide it from staff."""
    if reason not in ReportReason.values:
        raise InvalidFrame(
            fields={
                "reason": [_("One of %(choices)s.") % {"choices": ", ".join(ReportReason.values)}]
            }
        )
    if not isinstance(detail, str) or len(detail) > DETAIL_MAX_LENGTH or "\x00" in detail:
        raise InvalidFrame(
            fields={"detail": [_("At most %(limit)s characters.") % {"limit": DETAIL_MAX_LENGTH}]}
        )
    message = message_for(user=user, message_id=message_id, for_update=False)
    try:
        with transaction.atomic():
            return MessageReport.objects.create(
                message=message, reporter=user, reason=reason, detail=detail,
                body_snapshot=message.body,
            )  # fmt: skip
    except IntegrityError:
        raise AlreadyReported() from None


def _resolve(reports, *, staff, status: str) -> int:
    return reports.filter(status=ReportStatus.OPEN).update(
        status=status, resolved_by=staff, resolved_at=timezone.now()
    )


@transaction.atomic
def reports_dismiss(*, staff, reports) -> int:
    return _resolve(reports, staff=staff, status=ReportStatus.DISMISSED)


@transaction.atomic
def reports_delete_messages(*, staff, reports) -> int:
    """Delete the reported messages (tombstones, broadcast to the rooms) and close the reports
    on them."""
    for report in reports.select_related("message__sender"):
        if not report.message.is_deleted:
            message_tombstone(report.message)
    return _resolve(
        MessageReport.objects.filter(message__in=reports.values("message")),
        staff=staff,
        status=ReportStatus.ACTIONED,
    )


@transaction.atomic
def reports_mute_senders(*, staff, reports, until) -> int:
    """Mute each reported sender in the message's room until `until`."""
    muted = 0
    for report in reports.select_related("message"):
        message = report.message
        if message.sender_id is None:
            continue
        membership, _created = Membership.objects.get_or_create(
            room_id=message.room_id, user_id=message.sender_id
        )
        Membership.objects.filter(pk=membership.pk).update(muted_until=until)
        muted += 1
    _resolve(reports, staff=staff, status=ReportStatus.ACTIONED)
    return muted
