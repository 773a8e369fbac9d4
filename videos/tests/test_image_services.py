"""The image rules called directly, without HTTP: image_create (content, size, storage),
image_get_own and image_delete (owner-only, the file leaves after the commit)."""

import pytest
from django.db import IntegrityError, transaction
from django.http import Http404

from accounts.tests.factories import UserFactory
from core.errors import FileTooLarge, InvalidImage
from videos.models import Image
from videos.selectors.images import image_get_own
from videos.services.images import image_create, image_delete
from videos.tests.factories import ImageFactory
from videos.tests.images import encode, picture, stored_files, upload


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


class TestImageCreate:
    def test_the_service_checks_the_size_itself(self, user, settings):
        settings.IMAGE_MAX_UPLOAD_BYTES = 10
        with pytest.raises(FileTooLarge) as raised:
            image_create(owner=user, file=upload("a.png", encode(picture(), "PNG")))
        assert (raised.value.code, raised.value.status_code) == ("file_too_large", 413)
        assert stored_files(settings) == []

    def test_a_failed_database_write_removes_the_stored_file(self, user, settings, monkeypatch):
        def fail(*args, **kwargs):
            raise IntegrityError("simulated")

        monkeypatch.setattr(Image, "save", fail)

        with pytest.raises(IntegrityError):
            image_create(owner=user, file=upload("a.png", encode(picture(), "PNG")))

        assert stored_files(settings) == []

    def test_a_file_that_is_not_an_image_is_invalid_image_on_the_file_field(self, user, settings):
        with pytest.raises(InvalidImage) as raised:
            image_create(owner=user, file=upload("a.png", b"not an image at all"))
        message = "Upload a PNG, JPEG or WebP image."
        assert (raised.value.code, raised.value.status_code) == ("invalid_image", 400)
        assert (str(raised.value.message), raised.value.fields) == (message, {"file": [message]})
        assert not Image.objects.exists()
        assert stored_files(settings) == []


@pytest.mark.django_db
class TestImageGetOwn:
    def test_the_owner_gets_their_image(self, user):
        image = ImageFactory(owner=user)
        assert image_get_own(owner=user, image_id=image.pk) == image

    def test_someone_elses_or_an_unknown_image_is_404_alike(self, user):
        image = ImageFactory(owner=user)
        for owner, image_id in ((UserFactory(), image.pk), (user, image.pk + 1000)):
            with pytest.raises(Http404):
                image_get_own(owner=owner, image_id=image_id)


class TestImageDelete:
    def test_the_file_is_removed_only_after_the_deletion_commits(
        self, user, settings, django_capture_on_commit_callbacks
    ):
        image = ImageFactory(owner=user)

        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            image_delete(image=image)
            raise RuntimeError("rolled back")

        assert callbacks == []
        assert Image.objects.filter(pk=image.pk).exists()
        assert stored_files(settings) == [image.file.name]

    def test_an_image_deleted_meanwhile_is_404(self, user, settings):
        image = ImageFactory(owner=user)
        stale = Image.objects.get(pk=image.pk)
        image_delete(image=image)

        with pytest.raises(Http404):
            image_delete(image=stale)

        assert not Image.objects.exists()
