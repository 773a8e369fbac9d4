"""Files on the object store (a real SeaweedFS, the object_store fixture): a protected file is a
redirect to a presigned URL that the store honours with ranges and refuses once expired or
altered; behind nginx it is an X-Accel-Redirect to that URL; public files are plain URLs anyone
can read; deletes reach the store."""

import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages

from core.protected_files import protected_file_response
from core.storage import protected_storage

CONTENT = bytes(range(256)) * 40
STORE_PREFIX = "/protected-store/"


@pytest.fixture
def store(settings, object_store):
    settings.STORAGES = object_store.storages()
    return object_store


def stored(name: str = "videos/2026/01/clip.mp4", content: bytes = CONTENT):
    """A file saved in the protected storage, as a model's FieldFile would name it."""
    storage = protected_storage()
    return SimpleNamespace(name=storage.save(name, ContentFile(content)), storage=storage)


def respond(fieldfile, **kwargs):
    kwargs = {"content_type": "video/mp4", "range_header": None, **kwargs}
    return protected_file_response(fieldfile=fieldfile, **kwargs)


def test_the_protected_storage_follows_the_setting_onto_the_store(store):
    fieldfile = stored()
    assert protected_storage().bucket_name == store.protected_bucket
    location = storages["protected"].location
    assert f"{location}/{fieldfile.name}" in store.keys(store.protected_bucket, location)


def test_without_nginx_a_download_redirects_to_a_presigned_url_that_honours_range(store):
    fieldfile = stored()
    response = respond(fieldfile, download_name="Lecture 1.mp4")
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    location = response["Location"]
    assert location.startswith(f"{store.endpoint_url}/{store.protected_bucket}/")
    assert "X-Amz-Signature=" in location
    fetched = requests.get(location, headers={"Range": "bytes=1000-1099"}, timeout=5)
    assert fetched.status_code == 206
    assert fetched.content == CONTENT[1000:1100]
    assert fetched.headers["Content-Range"] == f"bytes 1000-1099/{len(CONTENT)}"
    assert fetched.headers["Content-Type"] == "video/mp4"
    assert fetched.headers["Cache-Control"] == "private, no-store"
    assert fetched.headers["Content-Disposition"].startswith('attachment; filename="Lecture 1.mp4"')
    assert requests.get(location, timeout=5).content == CONTENT


def test_the_store_refuses_a_presigned_url_once_expired_or_altered(settings, object_store):
    # Signatures are dated in whole seconds: 3 leave at least 2 for the requests before expiry.
    settings.STORAGES = object_store.storages(presign_seconds=3)
    fieldfile, other = stored(), stored("videos/2026/01/other.mp4")
    location = respond(fieldfile)["Location"]
    assert requests.get(location, timeout=5).status_code == 200
    signature = location.rsplit("X-Amz-Signature=", 1)[1]
    altered = location.replace(signature, signature[::-1])
    assert requests.get(altered, timeout=5).status_code == 403
    another_key = location.replace(fieldfile.name.rsplit("/", 1)[1], other.name.rsplit("/", 1)[1])
    assert another_key != location
    assert requests.get(another_key, timeout=5).status_code == 403
    unsigned = location.split("?", 1)[0]
    assert requests.get(unsigned, timeout=5).status_code == 403
    time.sleep(4.1)
    expired = requests.get(location, timeout=5)
    assert expired.status_code == 403
    assert expired.content != CONTENT


def test_behind_nginx_the_accel_uri_is_the_presigned_path_that_nginx_fetches(settings, store):
    settings.PROTECTED_ACCEL_REDIRECT_PREFIX = STORE_PREFIX
    fieldfile = stored()
    response = respond(fieldfile, download_name="clip.mp4")
    assert (response.status_code, response.content) == (200, b"")
    # The store's answer carries them; on an error nginx answers itself, they would be wrong.
    assert "Content-Type" not in response and "Content-Disposition" not in response
    uri = response["X-Accel-Redirect"]
    assert uri.startswith(f"{STORE_PREFIX}{store.protected_bucket}/")
    assert "X-Amz-Signature=" in uri
    # nginx's location maps the prefix onto the store's origin (NGINX_PROTECTED_STORE_URL).
    fetched = requests.get(
        store.endpoint_url + uri.removeprefix(STORE_PREFIX.rstrip("/")),
        headers={"Range": "bytes=-10"},
        timeout=5,
    )
    assert fetched.status_code == 206
    assert fetched.content == CONTENT[-10:]
    assert fetched.headers["Content-Type"] == "video/mp4"
    assert fetched.headers["Content-Disposition"].startswith('attachment; filename="clip.mp4"')


def test_a_file_on_disk_keeps_its_accel_uri_by_name(settings):
    """The object store's URIs change nothing for the filesystem (its tests are elsewhere)."""
    settings.PROTECTED_ACCEL_REDIRECT_PREFIX = "/protected-videos/"
    fieldfile = stored()
    assert respond(fieldfile)["X-Accel-Redirect"] == f"/protected-videos/{fieldfile.name}"


def test_a_deleted_file_is_gone_from_the_store(store):
    fieldfile = stored()
    location = respond(fieldfile)["Location"]
    assert requests.get(location, timeout=5).status_code == 200
    fieldfile.storage.delete(fieldfile.name)
    assert store.keys(store.protected_bucket, storages["protected"].location) == []
    assert requests.get(location, timeout=5).status_code == 404


def test_public_files_have_plain_urls_anyone_reads_and_protected_ones_do_not(store):
    name = default_storage.save("images/2026/01/picture.webp", ContentFile(b"RIFF-picture"))
    url = default_storage.url(name)
    assert urlsplit(url).query == "", "public URLs carry no signature"
    assert url.startswith(f"{store.endpoint_url}/{store.public_bucket}/")
    assert requests.get(url, timeout=5).content == b"RIFF-picture"
    fieldfile = stored()
    plain = f"{store.endpoint_url}/{store.protected_bucket}/{storages['protected'].location}/"
    refused = requests.get(plain + fieldfile.name, timeout=5)
    assert refused.status_code == 403
    assert refused.content != CONTENT
