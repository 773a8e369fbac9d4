"""Listing and deleting images through the API: owner-only, paginated, the file gone with the
row; anonymous callers refused; the schema of the upload."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.testing import assert_error_envelope
from videos.models import Image
from videos.tests.factories import ImageFactory
from videos.tests.images import (
    IMAGE_KEYS,
    URL,
    detail_url,
    encode,
    picture,
    post_image,
    stored_files,
)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


class TestList:
    def test_the_list_holds_only_the_callers_images_newest_first(self, auth_client, user):
        mine = ImageFactory.create_batch(3, owner=user)
        ImageFactory.create_batch(2)  # someone else's

        response = auth_client.get(URL)

        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 3
        assert [item["id"] for item in body["results"]] == [image.pk for image in reversed(mine)]
        first = body["results"][0]
        assert set(first) == IMAGE_KEYS
        assert first["url"] == f"http://testserver/media/{mine[-1].file.name}"
        assert (first["width"], first["height"], first["format"]) == (64, 48, "webp")
        assert first["size"] == mine[-1].size > 0

    def test_an_upload_appears_in_the_uploaders_list_only(self, auth_client, user):
        created = post_image(auth_client, encode(picture(), "PNG")).json()

        assert auth_client.get(URL).json()["results"] == [created]
        other = client_for(UserFactory())
        assert other.get(URL).json()["results"] == []

    def test_the_list_is_paginated(self, auth_client, user):
        ImageFactory.create_batch(3, owner=user)

        body = auth_client.get(URL, {"page_size": 2, "page": 2}).json()

        assert body["count"] == 3
        assert len(body["results"]) == 1
        assert body["next"] is None
        assert body["previous"]

    def test_the_list_runs_the_same_number_of_queries_for_1_and_15_images(
        self, auth_client, user, django_assert_max_num_queries
    ):
        auth_client.get(URL)  # the first request also checks the session; later ones hit a cache
        counts = []
        for total in (1, 15):
            Image.objects.all().delete()
            ImageFactory.create_batch(total, owner=user)
            with django_assert_max_num_queries(3) as captured:
                response = auth_client.get(URL)
            assert len(response.json()["results"]) == total
            counts.append(len(captured))
        assert counts[0] == counts[1]


class TestDelete:
    def test_the_owner_deletes_an_image_and_its_file_leaves_the_storage(
        self, auth_client, user, settings
    ):
        image = ImageFactory(owner=user)
        kept = ImageFactory(owner=user)
        assert stored_files(settings) == sorted([image.file.name, kept.file.name])

        response = auth_client.delete(detail_url(image.pk))

        assert response.status_code == 204
        assert response.content == b""
        assert list(Image.objects.all()) == [kept]
        assert stored_files(settings) == [kept.file.name]

    @pytest.mark.parametrize("who", ["other_user", "staff"])
    def test_someone_elses_image_is_404_and_stays(self, user, staff, settings, who):
        image = ImageFactory(owner=user)
        caller = staff if who == "staff" else UserFactory()

        response = client_for(caller).delete(detail_url(image.pk))

        assert_error_envelope(response, 404, "not_found")
        assert Image.objects.filter(pk=image.pk).exists()
        assert stored_files(settings) == [image.file.name]

    def test_an_unknown_or_already_deleted_id_is_404(self, auth_client, user):
        image = ImageFactory(owner=user)
        assert auth_client.delete(detail_url(image.pk)).status_code == 204

        assert_error_envelope(auth_client.delete(detail_url(image.pk)), 404, "not_found")
        assert_error_envelope(auth_client.delete(detail_url(999999)), 404, "not_found")


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_anonymous_callers_are_401(api_client, db, settings, method):
    image = ImageFactory()
    path = detail_url(image.pk) if method == "delete" else URL

    response = getattr(api_client, method)(path)

    assert_error_envelope(response, 401, "not_authenticated")
    assert list(Image.objects.all()) == [image]
    assert stored_files(settings) == [image.file.name]


def test_the_schema_documents_the_multipart_upload_and_the_errors():
    schema = SchemaGenerator().get_schema(public=True)
    validate_schema(schema)

    create = schema["paths"]["/api/images/"]["post"]
    multipart = create["requestBody"]["content"]["multipart/form-data"]["schema"]
    component = multipart["$ref"].rsplit("/", 1)[-1]
    file_schema = schema["components"]["schemas"][component]["properties"]["file"]
    assert (file_schema["type"], file_schema["format"]) == ("string", "binary")
    assert {"201", "400", "401", "413"} <= set(create["responses"])
    listing = schema["paths"]["/api/images/"]["get"]["responses"]["200"]
    page = listing["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert {"count", "next", "previous", "results"} <= set(
        schema["components"]["schemas"][page]["properties"]
    )
    delete = schema["paths"]["/api/images/{image_id}/"]["delete"]
    assert {"204", "401", "404"} <= set(delete["responses"])
