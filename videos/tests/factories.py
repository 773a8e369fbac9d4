"""Factories for the videos app's models."""

import factory

from accounts.tests.factories import UserFactory
from courses.models import TopicType
from courses.tests.factories import TopicFactory
from videos.models import Image, Video, VideoStatus


class ImageFactory(factory.django.DjangoModelFactory[Image]):
    """A stored image as the upload service leaves it: a small WebP in the default storage."""

    class Meta:
        model = Image

    owner = factory.SubFactory(UserFactory)
    file = factory.django.ImageField(filename="image.webp", format="WEBP", width=64, height=48)
    width = 64
    height = 48
    format = "webp"
    size = factory.LazyAttribute(lambda image: image.file.size)


class VideoFactory(factory.django.DjangoModelFactory[Video]):
    """A ready video row on a video topic, owned by the topic's tutor, for rules that read the
    row and not its bytes: the file is a name only (tests that stream upload a real clip)."""

    class Meta:
        model = Video

    topic = factory.SubFactory(TopicFactory, type=TopicType.VIDEO)
    owner = factory.LazyAttribute(lambda video: video.topic.lecture.course.tutor)
    status = VideoStatus.READY
    title = "Lecture"
    file = "videos/lecture.mp4"
    content_type = "video/mp4"
    size = 1
    duration = 4.0


def as_processed(video: Video) -> Video:
    """The video as a worker leaves it once its renditions are made (without running ffmpeg):
    ready for learners."""
    Video.objects.filter(pk=video.pk).update(status=VideoStatus.READY)
    video.status = VideoStatus.READY
    return video
