"""Insecure direct object references, content side: every endpoint that takes the id of an image,
video, course, curriculum, topic, submission, poll, user or session, called by someone who may not
touch that object (another student, a classmate in the same course, a rival tutor, the course's
own tutor) with the real id of a victim's object. Commerce is in test_security_idor_commerce.py.

Each must answer 403 or 404 in the envelope (the code pinned per row), show none of the victim's
private text, and leave every row of the database as it was; the same request by the rightful
user is answered (the control). The scene is built once per module (security_cases.py) and each
test runs in a savepoint.
"""

import pytest

from tests.security_cases import (
    DENIED,
    IDOR_ARGS,
    NOT_ENTITLED,
    NOT_FOUND,
    PNG_UPLOAD,
    assert_idor_refused,
    assert_rightful_user_answered,
)
from tests.security_cases import idor_row as row

pytestmark = pytest.mark.django_db


# (actor, method, path, body, (status, code), rightful (who, status)). Actors: attacker (a
# student with nothing to do with the victim), classmate (enrolled in the victim's course), rival
# (another tutor), tutor (the course's tutor, looking at a student's private rows).
MATRIX = [
    # --- images and avatars
    row("image-delete", ("owner", 204), "attacker", "DELETE", "/api/images/{image}/", NOT_FOUND),
    row(
        "staff-image-delete",
        ("staff", 204),
        "attacker",
        "DELETE",
        "/api/images/{staff_image}/",
        NOT_FOUND,
    ),
    row(
        "image-delete-by-tutor",
        ("owner", 204),
        "tutor",
        "DELETE",
        "/api/images/{image}/",
        NOT_FOUND,
    ),
    row(
        "image-as-own-avatar",
        ("owner", 200),
        "attacker",
        "PATCH",
        "/api/users/me/",
        (400, "validation_error"),
        {"avatar": "{image}"},
    ),
    # --- videos
    row("video-detail-by-rival", ("tutor", 200), "rival", "GET", "/api/videos/{video}/", NOT_FOUND),
    row(
        "video-detail-by-student", ("tutor", 200), "attacker", "GET", "/api/videos/{video}/", DENIED
    ),
    row(
        "video-update-by-rival",
        ("tutor", 200),
        "rival",
        "PATCH",
        "/api/videos/{video}/",
        NOT_FOUND,
        {"title": "Pwned"},
    ),
    row(
        "video-update-by-student",
        ("tutor", 200),
        "attacker",
        "PATCH",
        "/api/videos/{video}/",
        DENIED,
        {"title": "Pwned"},
    ),
    row(
        "video-delete-by-rival",
        ("tutor", 204),
        "rival",
        "DELETE",
        "/api/videos/{video}/",
        NOT_FOUND,
    ),
    row(
        "video-delete-by-classmate",
        ("tutor", 204),
        "classmate",
        "DELETE",
        "/api/videos/{video}/",
        DENIED,
    ),
    row(
        "video-stream-by-student",
        ("owner", 200),
        "attacker",
        "GET",
        "/api/videos/{video}/stream/",
        NOT_ENTITLED,
    ),
    row(
        "video-stream-by-rival",
        ("owner", 200),
        "rival",
        "GET",
        "/api/videos/{video}/stream/",
        NOT_ENTITLED,
    ),
    row(
        "video-event-by-student",
        ("owner", 201),
        "attacker",
        "POST",
        "/api/videos/{video}/events/",
        NOT_ENTITLED,
        {"event_type": "play", "position": 0},
    ),
    row(
        "video-progress-by-student",
        ("owner", 200),
        "attacker",
        "GET",
        "/api/videos/{video}/progress/",
        NOT_ENTITLED,
    ),
    row(
        "video-history-by-classmate",
        ("staff", 200),
        "classmate",
        "GET",
        "/api/videos/{video}/events/?user={owner}",
        DENIED,
    ),
    row(
        "video-history-by-its-tutor",
        ("staff", 200),
        "tutor",
        "GET",
        "/api/videos/{video}/events/?user={owner}",
        DENIED,
    ),
    # --- courses, thumbnails, curriculums
    row(
        "course-patch-by-rival",
        ("tutor", 200),
        "rival",
        "PATCH",
        "/api/courses/{course}/",
        DENIED,
        {"title": "Pwned", "price": 1},
    ),
    row(
        "course-put-by-rival",
        ("tutor", 200),
        "rival",
        "PUT",
        "/api/courses/{course}/",
        DENIED,
        {"title": "P"},
    ),
    row(
        "course-delete-by-rival",
        ("tutor", 409),
        "rival",
        "DELETE",
        "/api/courses/{course}/",
        DENIED,
    ),
    row(
        "course-patch-by-enrolled-student",
        ("tutor", 200),
        "classmate",
        "PATCH",
        "/api/courses/{course}/",
        DENIED,
        {"price": 1},
    ),
    row(
        "draft-detail-by-rival", ("tutor", 200), "rival", "GET", "/api/courses/{draft}/", NOT_FOUND
    ),
    row(
        "draft-detail-by-student",
        ("tutor", 200),
        "attacker",
        "GET",
        "/api/courses/{draft}/",
        NOT_FOUND,
    ),
    row(
        "draft-patch-by-rival",
        ("tutor", 200),
        "rival",
        "PATCH",
        "/api/courses/{draft}/",
        NOT_FOUND,
        {"is_published": True},
    ),
    row(
        "thumbnail-put-by-rival",
        ("tutor", 200),
        "rival",
        "PUT",
        "/api/courses/{course}/thumbnail/",
        DENIED,
        PNG_UPLOAD,
    ),
    row(
        "thumbnail-delete-by-rival",
        ("tutor", 204),
        "rival",
        "DELETE",
        "/api/courses/{course}/thumbnail/",
        DENIED,
    ),
    row(
        "curriculum-patch-by-rival",
        ("tutor", 200),
        "rival",
        "PATCH",
        "/api/curriculums/{curriculum}/",
        DENIED,
        {"price": 1},
    ),
    row(
        "curriculum-delete-by-rival",
        ("tutor", 204),
        "rival",
        "DELETE",
        "/api/curriculums/{curriculum}/",
        DENIED,
    ),
    row(
        "curriculum-patch-by-student",
        ("tutor", 200),
        "attacker",
        "PATCH",
        "/api/curriculums/{curriculum}/",
        DENIED,
        {"title": "Pwned"},
    ),
    # --- studying: topics, quiz attempts, submissions, grading
    row(
        "premium-article-by-student",
        ("owner", 200),
        "attacker",
        "GET",
        "/api/topics/{article}/",
        NOT_ENTITLED,
    ),
    row(
        "premium-article-by-rival",
        ("owner", 200),
        "rival",
        "GET",
        "/api/topics/{article}/",
        NOT_ENTITLED,
    ),
    row(
        "assignment-prompt-by-student",
        ("owner", 200),
        "attacker",
        "GET",
        "/api/topics/{assignment}/",
        NOT_ENTITLED,
    ),
    row(
        "quiz-attempt-by-student",
        ("owner", 201),
        "attacker",
        "POST",
        "/api/topics/{quiz}/quiz-attempts/",
        NOT_ENTITLED,
        {"answers": "{answers}"},
    ),
    row(
        "submission-by-student",
        ("owner", 200),
        "attacker",
        "POST",
        "/api/topics/{assignment}/submissions/",
        NOT_ENTITLED,
        {"text": "Mine now"},
    ),
    row(
        "submissions-list-by-student",
        ("owner", 200),
        "attacker",
        "GET",
        "/api/topics/{assignment}/submissions/",
        NOT_ENTITLED,
    ),
    row(
        "all-submissions-by-classmate",
        ("tutor", 200),
        "classmate",
        "GET",
        "/api/topics/{assignment}/submissions/?all=1",
        DENIED,
    ),
    row(
        "all-submissions-by-rival",
        ("tutor", 200),
        "rival",
        "GET",
        "/api/topics/{assignment}/submissions/?all=1",
        NOT_ENTITLED,
    ),
    row(
        "grade-by-classmate",
        ("tutor", 200),
        "classmate",
        "PATCH",
        "/api/submissions/{submission}/",
        NOT_FOUND,
        {"grade": 100, "feedback": "Perfect"},
    ),
    row(
        "grade-by-student",
        ("tutor", 200),
        "attacker",
        "PATCH",
        "/api/submissions/{submission}/",
        NOT_FOUND,
        {"grade": 0},
    ),
    row(
        "grade-by-rival",
        ("tutor", 200),
        "rival",
        "PATCH",
        "/api/submissions/{submission}/",
        NOT_FOUND,
        {"grade": 0},
    ),
    # --- votes and teams
    row(
        "secret-ballot-voters-by-student",
        ("staff", 200),
        "attacker",
        "GET",
        "/api/polls/{poll}/candidates/{candidate}/voters/",
        (403, "ballot_secret"),
    ),
    row(
        "secret-ballot-voters-by-tutor",
        ("staff", 200),
        "tutor",
        "GET",
        "/api/polls/{poll}/candidates/{candidate}/voters/",
        (403, "ballot_secret"),
    ),
    row(
        "poll-create-by-student",
        ("staff", 201),
        "attacker",
        "POST",
        "/api/polls/",
        DENIED,
        {
            "kind": "general",
            "title": "Mine",
            "opens_at": "2030-01-01T00:00:00Z",
            "closes_at": "2030-01-02T00:00:00Z",
        },
    ),
    row(
        "team-create-by-tutor",
        ("staff", 201),
        "tutor",
        "POST",
        "/api/teams/",
        DENIED,
        {"name": "Mine"},
    ),
    # --- users and sessions
    row(
        "user-directory-by-student",
        ("staff", 200),
        "attacker",
        "GET",
        "/api/users/?search={owner}",
        DENIED,
    ),
    row("user-directory-by-tutor", ("staff", 200), "tutor", "GET", "/api/users/", DENIED),
    row("user-detail", ("staff", 200), "attacker", "GET", "/api/users/{owner}/", DENIED),
    # Part and team decide poll eligibility: only staff place a user, never the user.
    row(
        "user-membership-by-self",
        ("staff", 200),
        "owner",
        "PATCH",
        "/api/users/{owner}/",
        DENIED,
        {"part": "design"},
    ),
    row(
        "user-membership-by-other",
        ("staff", 200),
        "attacker",
        "PATCH",
        "/api/users/{owner}/",
        DENIED,
        {"part": "design"},
    ),
    row(
        "session-delete",
        ("owner", 204),
        "attacker",
        "DELETE",
        "/api/auth/sessions/{owner_session}/",
        NOT_FOUND,
    ),
    row(
        "staff-session-delete",
        ("staff", 204),
        "attacker",
        "DELETE",
        "/api/auth/sessions/{staff_session}/",
        NOT_FOUND,
    ),
]


@pytest.mark.parametrize(IDOR_ARGS, MATRIX)
def test_a_victims_object_id_is_refused_shows_nothing_and_changes_nothing(
    world, actor, method, path, body, expected, legit
):
    assert_idor_refused(world, actor, method, path, body, expected)


@pytest.mark.parametrize(IDOR_ARGS, [case for case in MATRIX if case.values[-1]])
def test_the_same_request_by_the_rightful_user_is_answered_so_the_ids_are_real(
    world, actor, method, path, body, expected, legit
):
    assert_rightful_user_answered(world, method, path, body, legit)
