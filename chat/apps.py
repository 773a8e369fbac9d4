from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Chat")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Lower apps announce; chat listens (shared/STYLE.md: no lower app imports chat).
        from accounts.registry import sessions_ended
        from chat.broadcast import sessions_ended as sockets_of_sessions_close
        from chat.services.rooms import course_access_changed_handle
        from chat.services.sockets import stale_rows_purge
        from core.registry import purger_register
        from courses.registry import course_access_changed

        sessions_ended.listen(sockets_of_sessions_close)
        course_access_changed.listen(course_access_changed_handle)
        purger_register("chat tickets and sockets", stale_rows_purge)
