"""Quiz attempts, assignment submissions and grading (placeholder: being written)."""

from rest_framework.views import APIView


class QuizAttemptCreateApi(APIView):
    pass


class TopicSubmissionsApi(APIView):
    pass


class SubmissionGradeApi(APIView):
    pass
