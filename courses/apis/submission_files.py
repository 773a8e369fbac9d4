"""Assignment files: downloaded through an access check (the learner who submitted it, the
course's tutor, staff), like lecture videos; they have no public URL."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.views import APIView

from core.errors import RangeNotSatisfiable
from core.files import public_url
from core.openapi import errors_of
from core.protected_files import RANGE_HEADER, download_filename, protected_file_response
from courses.models import Submission
from courses.selectors.learning import submission_for_download

SUBMISSION_ID = OpenApiParameter("submission_id", int, OpenApiParameter.PATH)


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
            RANGE_HEADER,
        ],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            (206, "application/octet-stream"): OpenApiTypes.BINARY,
            **errors_of(RangeNotSatisfiable),
        },
        description="The submitted file as an attachment under its original name, for its "
        "learner, the course's tutor and staff (anyone else: 404, as for no file). Behind nginx "
        "the response is empty with `X-Accel-Redirect`, and nginx serves the bytes.",
    )
    def get(self, request, submission_id: int):
        submission = submission_for_download(user=request.user, submission_id=submission_id)
        # The selector returns only submissions with a file.
        assert submission.file.name  # nosec B101
        return protected_file_response(
            fieldfile=submission.file,
            content_type="application/octet-stream",
            range_header=request.headers.get("Range"),
            download_name=download_filename(submission.file.name),
        )
