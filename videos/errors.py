"""The rules of the videos app. Images break core's (InvalidImage, FileTooLarge); a video too
large is core's FileTooLarge too, and one not entitled to watch is courses' NotEntitled."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import ApplicationError


class InvalidVideo(ApplicationError):
    """Not a complete MP4, WebM or QuickTime file by its structure, or a duration that is not a
    number of seconds up to a day (the message says which)."""

    code = "invalid_video"
    message = _("This is not a complete MP4, WebM or QuickTime video.")
    field = "file"


class VideoNotReady(ApplicationError):
    """Its renditions are still being made, or could not be (the video's status says which)."""

    code = "video_not_ready"
    status = 409
    message = _("This video is not ready to play yet.")
