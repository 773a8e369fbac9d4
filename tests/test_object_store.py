"""The test object store (tools/objectstore.py, the object_store fixture) holds the access rules
the deployment relies on: without a key, objects of the public bucket can be read, and no
protected file, listing or write (the protected bucket's hls/ streams, which nginx checks itself,
are videos' tests); the application's key can do everything; and the store comes back on the
same data after a stop, leaving nothing of it in /tmp."""

import glob
import secrets

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError


@pytest.fixture
def objects(object_store):
    """One object in each bucket, under a key of this test's own."""
    key = f"t{secrets.token_hex(6)}/file.bin"
    client = object_store.client()
    for bucket in (object_store.public_bucket, object_store.protected_bucket):
        client.put_object(Bucket=bucket, Key=key, Body=bucket.encode())
    return key


def test_without_a_key_public_objects_are_read_and_protected_files_never(object_store, objects):
    base, public, protected = (
        object_store.endpoint_url,
        object_store.public_bucket,
        object_store.protected_bucket,
    )
    read = requests.get(f"{base}/{public}/{objects}", timeout=5)
    assert (read.status_code, read.content) == (200, public.encode())
    refused = [
        requests.get(f"{base}/{protected}/{objects}", timeout=5),
        requests.get(f"{base}/{public}/", timeout=5),  # a listing
        requests.get(f"{base}/{public}?list-type=2", timeout=5),
        requests.get(f"{base}/", timeout=5),  # the buckets
        requests.put(f"{base}/{public}/{objects}", data=b"overwritten", timeout=5),
        requests.delete(f"{base}/{public}/{objects}", timeout=5),
        requests.put(f"{base}/another-bucket", timeout=5),
    ]
    assert [response.status_code for response in refused] == [403] * len(refused)
    assert requests.get(f"{base}/{public}/{objects}", timeout=5).content == public.encode()


def test_the_applications_key_reads_everything_and_a_wrong_secret_nothing(object_store, objects):
    bucket = object_store.protected_bucket
    kept = object_store.client().get_object(Bucket=bucket, Key=objects)
    assert kept["Body"].read() == bucket.encode()
    wrong = boto3.client(
        "s3",
        endpoint_url=object_store.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=object_store.access_key,
        aws_secret_access_key="not-the-secret",
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as refused:
        wrong.get_object(Bucket=bucket, Key=objects)
    assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_the_store_comes_back_on_the_same_data_and_leaves_no_socket_in_tmp(object_store, objects):
    sockets = {
        f"/tmp/seaweedfs-{name.split('.')[0]}-grpc-{port}.sock"  # noqa: S108
        for name, port in object_store.ports.items()
        if name.endswith(".grpc")
    }
    object_store.stop()
    assert not object_store.answers()
    assert not sockets & set(glob.glob("/tmp/seaweedfs-*.sock"))  # noqa: S108
    object_store.start()
    kept = object_store.client().get_object(Bucket=object_store.public_bucket, Key=objects)
    assert kept["Body"].read() == object_store.public_bucket.encode()
