"""Fields that higher apps add to a topic's content (GET /api/topics/{id}/), see core.registry;
and what courses announces to them, see core.announcements."""

from core.announcements import Announcement
from core.registry import FieldRegistry

topic_content = FieldRegistry()
topic_content_field_register = topic_content.register
topic_content_fields = topic_content.resolving_fields

# Who may study which course changed: listeners get `user_ids` (None: anyone's, e.g. a course
# published, unpublished or handed to another tutor) and `course_ids`, after commit.
course_access_changed = Announcement("course_access_changed")
