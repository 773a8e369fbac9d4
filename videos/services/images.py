"""Storing uploaded images (avatars, thumbnails) as Image rows; the checks and re-encoding are
core.images'. Files go through the Image.file field's storage (the local filesystem by default,
or S3 once django-storages is configured)."""

import secrets

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404

from core.images import image_encode
from videos.models import Image

# --- Services -------------------------------------------------------------------------------------


def image_create(*, owner, file: UploadedFile) -> Image:
    """Store a re-encoded copy of `file` for `owner` under a random name.

    The file is written before the row; if the row cannot be saved the file is deleted again.
    Called inside an outer transaction that later rolls back, the file stays behind (Django has
    no on-rollback hook), so call it from a view, not from inside another atomic block.
    """
    encoded = image_encode(file=file)
    field = Image._meta.get_field("file")
    storage = field.storage
    name = field.generate_filename(
        Image(owner=owner), f"{secrets.token_urlsafe(16)}.{encoded.extension}"
    )
    name = storage.save(name, ContentFile(encoded.content), max_length=field.max_length)
    # The stored name is given to the constructor together with width and height, so Django's
    # ImageField does not reopen the stored file to measure it (a GET on S3).
    image = Image(
        owner=owner,
        file=name,
        width=encoded.width,
        height=encoded.height,
        format=encoded.format,
        size=len(encoded.content),
    )
    try:
        with transaction.atomic():
            image.save(force_insert=True)
    except BaseException:
        storage.delete(name)
        raise
    return image


def image_delete(*, image: Image) -> None:
    """Delete the row now and its file once the deletion has committed; an image deleted
    meanwhile by a concurrent request is 404."""
    name, storage = image.file.name, image.file.storage
    with transaction.atomic():
        deleted = Image.objects.filter(pk=image.pk).delete()[0]
        if not deleted:
            raise Http404
        if name:
            transaction.on_commit(lambda: storage.delete(name), robust=True)
