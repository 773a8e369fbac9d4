"""Images (avatars, thumbnails) and videos: upload limits, decoding, watch budget."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.environment import env

# Larger uploads get 413 `file_too_large`; the body is cut off as it arrives.
IMAGE_MAX_UPLOAD_BYTES = env.int("IMAGE_MAX_UPLOAD_BYTES", default=5 * 1024 * 1024)
# Decompression-bomb guard, read from the header before decoding. Keep <= Pillow's 89_478_485.
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=50_000_000)
# Pixels decoded at once (a JPEG is decoded reduced towards IMAGE_MAX_BOX, a PNG or WebP whole):
# a worker's peak is about 10 bytes a pixel (16 MP: ~160 MB; a 49 MP PNG took 370-570 MB).
IMAGE_MAX_DECODED_PIXELS = env.int("IMAGE_MAX_DECODED_PIXELS", default=16_000_000)
# Stored images fit this square box in px, aspect kept, never upscaled.
IMAGE_MAX_BOX = env.int("IMAGE_MAX_BOX", default=1600)
IMAGE_OUTPUT_FORMAT = env("IMAGE_OUTPUT_FORMAT", default="WEBP")  # WEBP or JPEG
IMAGE_OUTPUT_QUALITY = env.int("IMAGE_OUTPUT_QUALITY", default=85)

# --- Videos ------------------------------------------------------------------------------------

VIDEO_MAX_UPLOAD_BYTES = env.int("VIDEO_MAX_UPLOAD_BYTES", default=500 * 1024 * 1024)
# Behind nginx: protected files (videos, assignment files) are sent through X-Accel-Redirect to
# this `internal` location, which maps PROTECTED_MEDIA_ROOT (e.g. "/protected-videos/"); empty:
# Django streams the bytes itself, honouring Range. VIDEO_ACCEL_REDIRECT_PREFIX is its old name.
PROTECTED_ACCEL_REDIRECT_PREFIX = env(
    "PROTECTED_ACCEL_REDIRECT_PREFIX", default=env("VIDEO_ACCEL_REDIRECT_PREFIX", default="")
)
# Watched time counted per (viewer, video) never exceeds the server time spent watching since the
# first event x this rate, plus the allowance once; a gap between two events counts as watching
# for at most VIDEO_WATCH_IDLE_SECONDS.
VIDEO_MAX_PLAYBACK_RATE = env.float("VIDEO_MAX_PLAYBACK_RATE", default=2.0)
VIDEO_WATCH_ALLOWANCE_SECONDS = env.float("VIDEO_WATCH_ALLOWANCE_SECONDS", default=5.0)
VIDEO_WATCH_IDLE_SECONDS = env.float("VIDEO_WATCH_IDLE_SECONDS", default=60.0)

# --- Video processing and delivery -------------------------------------------------------------

# A worker makes each upload's HLS renditions (videos.tasks.video_process): segments of about
# this many seconds; a transcode running longer than the limit is stopped and the video failed.
VIDEO_SEGMENT_SECONDS = env.int("VIDEO_SEGMENT_SECONDS", default=6)
VIDEO_PROCESS_TIME_LIMIT = env.int("VIDEO_PROCESS_TIME_LIMIT", default=3 * 60 * 60)
# A processing worker refreshes the video's heartbeat this often; a video in `processing` whose
# heartbeat (or queueing) is older than VIDEO_REQUEUE_AFTER_SECONDS is queued again (its worker
# died, or the broker was away when it was uploaded).
VIDEO_HEARTBEAT_SECONDS = env.int("VIDEO_HEARTBEAT_SECONDS", default=30)
VIDEO_REQUEUE_AFTER_SECONDS = env.int("VIDEO_REQUEUE_AFTER_SECONDS", default=180)
# How often beat looks for them.
VIDEO_REQUEUE_EVERY_SECONDS = env.int("VIDEO_REQUEUE_EVERY_SECONDS", default=60)
if VIDEO_HEARTBEAT_SECONDS * 2 > VIDEO_REQUEUE_AFTER_SECONDS:
    # A live transcode would look dead between two beats, and be processed twice.
    raise ImproperlyConfigured(
        "VIDEO_REQUEUE_AFTER_SECONDS must be at least twice VIDEO_HEARTBEAT_SECONDS."
    )
# Playback URLs (GET /api/videos/{id}/playback/) are signed for one viewer and video, and live
# this long plus the video's duration; nginx checks them (secure_link) with the same key, which
# production requires (NGINX_MEDIA_SIGNING_KEY is the same value). Elsewhere a key derived from
# SECRET_KEY is used, and Django checks the URLs itself.
VIDEO_PLAYBACK_URL_SECONDS = env.int("VIDEO_PLAYBACK_URL_SECONDS", default=60 * 60)
MEDIA_SIGNING_KEY = env("MEDIA_SIGNING_KEY", default="")
