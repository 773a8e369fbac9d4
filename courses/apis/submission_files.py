"""Assignment files: downloaded through an access check (the learner who submitted it, the
course's tutor, staff), like lecture videos; they have no public URL."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.views import APIView

from core.exceptions import ApplicationError
from core.files import public_url
from core.openapi import error_response
from core.protected_files import download_filename, protected_file_response
from courses.models import Submission
from courses.selectors.learning import user_can_grade

SUBMISSION_ID = OpenApiParameter("submission_id", int, OpenApiParameter.PATH)


def submission_get_for_download(*, user, submission_id: int) -> Submission:
    """A submission with a file, for its learner, the course's tutor or staff; anyone else gets
    404 like an unknown id, so nobody learns that another learner's work exists."""
    submission = (
        Submission.objects.select_related("topic__lecture__course")
        .filter(pk=submission_id)
        .exclude(file="")
        .first()
    )
    if submission is not None and (
        submission.user_id == user.pk or user_can_grade(user, submission.topic.lecture.course)
    ):
        return submission
    raise ApplicationError("not_found", _("Not found."), status.HTTP_404_NOT_FOUND)


@extend_schema_field(OpenApiTypes.URI)
class SubmissionFileUrlField(serializers.Field):
    """The absolute URL of the submission's file download, or null without a file."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, allow_null=True, **kwargs)

    def to_representation(self, submission: Submission) -> str | None:
        if not submission.file:
            return None
        path = reverse("submission-file", kwargs={"submission_id": submission.pk})
        return public_url(path, self.context.get("request"))


class SubmissionFileApi(APIView):
    @extend_schema(
        operation_id="submissions_file",
        parameters=[
            SUBMISSION_ID,
            OpenApiParameter(
                "Range", str, OpenApiParameter.HEADER, description="e.g. `bytes=0-1048575`"
            ),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            (206, "application/octet-stream"): OpenApiTypes.BINARY,
            404: error_response(
                "`not_found`: no such submission, no file, or not yours to read (only its "
                "learner, the course's tutor and staff may)."
            ),
            416: error_response("`range_not_satisfiable` (with `Content-Range: bytes */size`)."),
        },
        description="The submitted file as an attachment under its original name. Behind nginx "
        "the response is empty with `X-Accel-Redirect`, and nginx serves the bytes.",
    )
    def get(self, request, submission_id: int):
        submission = submission_get_for_download(user=request.user, submission_id=submission_id)
        return protected_file_response(
            fieldfile=submission.file,
            content_type="application/octet-stream",
            range_header=request.headers.get("Range"),
            download_name=download_filename(submission.file.name),
        )
