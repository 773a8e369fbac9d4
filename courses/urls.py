from django.urls import path

from courses.apis import catalogue, learning, submission_files

urlpatterns = [
    path("curriculums/", catalogue.CurriculumListCreateApi.as_view(), name="curriculums"),
    path(
        "curriculums/<int:curriculum_id>/",
        catalogue.CurriculumDetailApi.as_view(),
        name="curriculum-detail",
    ),
    path("courses/", catalogue.CourseListCreateApi.as_view(), name="courses"),
    path("courses/<int:course_id>/", catalogue.CourseDetailApi.as_view(), name="course-detail"),
    path("courses/<int:course_id>/edit/", catalogue.CourseEditApi.as_view(), name="course-edit"),
    path(
        "courses/<int:course_id>/thumbnail/",
        catalogue.CourseThumbnailApi.as_view(),
        name="course-thumbnail",
    ),
    path("topics/<int:topic_id>/", catalogue.TopicStudyApi.as_view(), name="topic-study"),
    path(
        "topics/<int:topic_id>/quiz-attempts/",
        learning.QuizAttemptCreateApi.as_view(),
        name="topic-quiz-attempts",
    ),
    path(
        "topics/<int:topic_id>/submissions/",
        learning.TopicSubmissionsApi.as_view(),
        name="topic-submissions",
    ),
    path(
        "submissions/<int:submission_id>/",
        learning.SubmissionGradeApi.as_view(),
        name="submission-grade",
    ),
    path(
        "submissions/<int:submission_id>/file/",
        submission_files.SubmissionFileApi.as_view(),
        name="submission-file",
    ),
    path("me/enrollments/", catalogue.MyEnrollmentsApi.as_view(), name="my-enrollments"),
]
