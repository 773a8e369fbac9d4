"""Backups as the compose `backup` service makes them (scripts/backup.sh, as the application's
role), put back by scripts/restore.sh into a fresh database and fresh upload folders, and served
from there by gunicorn: the accounts sign in, the uploaded files are there."""

import io
import os
import secrets
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from e2e.conftest import DEMO_PASSWORD, MP4, bearer, login, multipart, user_create
from tools import app
from tools.app import PROTECTED_PREFIX, PROXIED
from tools.procs import ROOT, free_port, stop

BACKUP = ROOT / "scripts" / "backup.sh"
RESTORE = ROOT / "scripts" / "restore.sh"


def run_script(script: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", str(script), *args],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 90)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def restored_target(edge, tmp_path):
    """A fresh database owned by the application's role, and empty upload folders."""
    role = urlsplit(edge.env["DATABASE_URL"])
    name = f"{role.path.lstrip('/')}_restored"
    edge.postgres.drop(name)
    target = {
        "DATABASE_URL": edge.postgres.app_database(name, role.username, role.password),
        "MEDIA_ROOT": str(tmp_path / "restored-media"),
        "PROTECTED_MEDIA_ROOT": str(tmp_path / "restored-protected"),
    }
    yield target
    edge.postgres.drop(name)


def backup_made(edge, backups: Path) -> Path:
    """scripts/backup.sh run on the stack's database and folders: the one set it made."""
    made = run_script(
        BACKUP,
        DATABASE_URL=edge.env["DATABASE_URL"],
        MEDIA_ROOT=edge.env["MEDIA_ROOT"],
        PROTECTED_MEDIA_ROOT=edge.env["PROTECTED_MEDIA_ROOT"],
        BACKUP_DIR=str(backups),
    )
    assert made.returncode == 0, made.stderr
    (backup_set,) = [path for path in backups.iterdir() if not path.name.startswith(".")]
    return backup_set


def test_a_backup_restored_into_a_fresh_database_and_folders_is_served(
    edge, lecture_video, restored_target, tmp_path
):
    email = user_create(edge)
    tutor = login(edge, "tutor@example.com")
    body, content_type = multipart({}, "picture.png", png())
    uploaded = edge.request(
        "POST",
        "/api/images/",
        body=body,
        headers={**bearer(tutor["access"]), "Content-Type": content_type},
    )
    assert uploaded.status == 201, uploaded.body
    image = uploaded.json()
    image_bytes = edge.request("GET", urlsplit(image["url"]).path).body

    backup_set = backup_made(edge, tmp_path / "backups")
    assert sorted(p.name for p in backup_set.iterdir()) == [
        "SHA256SUMS",
        "database.dump",
        "media.tar",
        "protected_media.tar",
    ]
    assert all((path.stat().st_mode & 0o077) == 0 for path in backup_set.iterdir())

    restored = run_script(RESTORE, str(backup_set), **restored_target)
    assert restored.returncode == 0, restored.stderr

    port = free_port()
    env = {**edge.env, **restored_target, "CACHE_KEY_PREFIX": f"restored-{secrets.token_hex(4)}"}
    processes = {"restored": app.gunicorn(env, port, tmp_path / "restored.log", workers=1)}
    try:
        app.wait_healthy(port, processes)

        def direct(method, path, **kwargs):
            headers = {**PROXIED, **kwargs.pop("headers", {})}
            return edge.request(method, path, port=port, headers=headers, **kwargs)

        signed_in = direct(
            "POST", "/api/auth/login/", body={"login": email, "password": DEMO_PASSWORD}
        )
        assert signed_in.status == 200, signed_in.body

        student = direct(
            "POST",
            "/api/auth/login/",
            body={"login": "student1@example.com", "password": DEMO_PASSWORD},
        ).json()
        stream = direct(
            "GET", f"/api/videos/{lecture_video['id']}/stream/", headers=bearer(student["access"])
        )
        assert stream.status == 200
        name = stream.header("X-Accel-Redirect").removeprefix(PROTECTED_PREFIX)
        assert (Path(restored_target["PROTECTED_MEDIA_ROOT"]) / name).read_bytes() == MP4

        tutor_again = direct(
            "POST",
            "/api/auth/login/",
            body={"login": "tutor@example.com", "password": DEMO_PASSWORD},
        ).json()
        listed = direct("GET", "/api/images/", headers=bearer(tutor_again["access"])).json()
        (same,) = [item for item in listed["results"] if item["id"] == image["id"]]
        stored = urlsplit(same["url"]).path.removeprefix("/media/")
        assert (Path(restored_target["MEDIA_ROOT"]) / stored).read_bytes() == image_bytes
    finally:
        stop(processes)


def test_restore_refuses_a_database_in_use_or_a_damaged_set_unless_told(
    edge, restored_target, tmp_path
):
    backup_set = backup_made(edge, tmp_path / "backups")

    assert run_script(RESTORE, str(backup_set), **restored_target).returncode == 0
    # Restoring over data: refused without --clean, the data untouched; with it, done again.
    again = run_script(RESTORE, str(backup_set), **restored_target)
    assert again.returncode == 1
    assert "--clean" in again.stderr
    cleaned = run_script(RESTORE, "--clean", str(backup_set), **restored_target)
    assert cleaned.returncode == 0, cleaned.stderr

    # A set that changed since it was written is refused before anything is touched.
    with (backup_set / "media.tar").open("r+b") as archive:
        archive.seek(600)
        byte = archive.read(1)
        archive.seek(600)
        archive.write(bytes([byte[0] ^ 0xFF]))
    damaged = run_script(RESTORE, "--clean", str(backup_set), **restored_target)
    assert damaged.returncode == 1
    assert "SHA256SUMS" in damaged.stderr
