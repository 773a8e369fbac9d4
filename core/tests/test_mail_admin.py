"""Staff see the mail queue in the admin, never a mail's body (a reset link signs in as its
recipient), and cannot change or add mail there."""

import pytest

from core.models import OutgoingMail

pytestmark = pytest.mark.django_db

SECRET_LINK = "https://app.example.com/reset/abc/set-password-token-123"


@pytest.fixture
def mail():
    return OutgoingMail.objects.create(
        to=["learner@example.com"], subject="Reset your password", body=f"Open {SECRET_LINK}",
        attempts=2, last_error="SMTP 451 try later",
    )  # fmt: skip


def test_the_queue_shows_recipients_attempts_and_errors_but_no_body(admin_client, mail):
    listing = admin_client.get("/admin/core/outgoingmail/?sent_at__isempty=1")
    assert listing.status_code == 200
    assert b"learner@example.com" in listing.content and b"SMTP 451" in listing.content
    page = admin_client.get(f"/admin/core/outgoingmail/{mail.pk}/change/")
    assert page.status_code == 200
    for response in (listing, page):
        assert SECRET_LINK.encode() not in response.content


def test_mail_cannot_be_changed_or_added_in_the_admin(admin_client, mail):
    changed = admin_client.post(
        f"/admin/core/outgoingmail/{mail.pk}/change/", {"to": '["x@example.com"]'}
    )
    assert changed.status_code == 403
    assert admin_client.get("/admin/core/outgoingmail/add/").status_code == 403
    mail.refresh_from_db()
    assert mail.to == ["learner@example.com"]
