"""How the courses endpoints answer a caller who may not study a topic."""

from rest_framework.exceptions import NotAuthenticated

from courses.errors import NotEntitled
from courses.models import Topic
from courses.selectors.enrollments import topic_for_study


def topic_for_caller(request, topic_id: int) -> Topic:
    """`topic_for_study` for this request. A caller without credentials who would need them is
    asked to log in, 401 `not_authenticated` (the view adds WWW-Authenticate), as DRF answers
    wherever a login is needed; a signed-in caller who is not entitled gets 403 `not_entitled`."""
    try:
        return topic_for_study(user=request.user, topic_id=topic_id)
    except NotEntitled:
        if not request.user.is_authenticated:
            raise NotAuthenticated() from None
        raise
