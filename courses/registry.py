"""Fields that higher apps add to a topic's content (GET /api/topics/{id}/); see core.registry."""

from core.registry import FieldRegistry

topic_content = FieldRegistry()
topic_content_field_register = topic_content.register
topic_content_fields = topic_content.resolving_fields
