from django.urls import path

from courses.apis import courses, curriculums, quizzes, study, submission_files, submissions

urlpatterns = [
    path("curriculums/", curriculums.CurriculumListCreateApi.as_view(), name="curriculums"),
    path(
        "curriculums/<int:curriculum_id>/",
        curriculums.CurriculumDetailApi.as_view(),
        name="curriculum-detail",
    ),
    path("courses/", courses.CourseListCreateApi.as_view(), name="courses"),
    path("courses/<int:course_id>/", courses.CourseDetailApi.as_view(), name="course-detail"),
    path("courses/<int:course_id>/edit/", courses.CourseEditApi.as_view(), name="course-edit"),
    path(
        "courses/<int:course_id>/thumbnail/",
        courses.CourseThumbnailApi.as_view(),
        name="course-thumbnail",
    ),
    path("topics/<int:topic_id>/", study.TopicStudyApi.as_view(), name="topic-study"),
    path("topics/<int:topic_id>/open/", study.TopicOpenApi.as_view(), name="topic-open"),
    path(
        "topics/<int:topic_id>/quiz-attempts/",
        quizzes.QuizAttemptCreateApi.as_view(),
        name="topic-quiz-attempts",
    ),
    path(
        "topics/<int:topic_id>/submissions/",
        submissions.TopicSubmissionsApi.as_view(),
        name="topic-submissions",
    ),
    path(
        "submissions/<int:submission_id>/",
        submissions.SubmissionGradeApi.as_view(),
        name="submission-grade",
    ),
    path(
        "submissions/<int:submission_id>/file/",
        submission_files.SubmissionFileApi.as_view(),
        name="submission-file",
    ),
    path("me/enrollments/", study.MyEnrollmentsApi.as_view(), name="my-enrollments"),
]
