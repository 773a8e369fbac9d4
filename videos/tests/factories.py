"""Factories for the videos app's models."""

import factory

from accounts.tests.factories import UserFactory
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


def as_processed(video: Video) -> Video:
    """The video as a worker leaves it once its renditions are made (without running ffmpeg):
    ready for learners."""
    Video.objects.filter(pk=video.pk).update(status=VideoStatus.READY)
    video.status = VideoStatus.READY
    return video
