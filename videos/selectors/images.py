"""Reads of uploaded images: each user sees and deletes only their own."""

from django.db.models import QuerySet
from django.http import Http404

from videos.models import Image


def image_list(*, owner) -> QuerySet[Image]:
    """`owner`'s images, newest first (one query per page, plus the count)."""
    return Image.objects.filter(owner=owner).order_by("-created_at", "-id")


def image_get_own(*, owner, image_id: int) -> Image:
    """`owner`'s image; anyone else's id is 404 like an unknown one, so ids reveal nothing."""
    image = Image.objects.filter(owner=owner, pk=image_id).first()
    if image is None:
        raise Http404
    return image
