"""The contract frontends read lives in the repository (docs/api.md) and names every endpoint the
schema serves; the README points there."""

import re
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator

ROOT = Path(__file__).resolve().parents[1]


def _normalised(path: str) -> str:
    return re.sub(r"\{[^}/]*\}", "{}", path)


@pytest.fixture(scope="module")
def schema_paths() -> list[str]:
    return sorted(SchemaGenerator().get_schema(request=None, public=True)["paths"])


def test_docs_name_every_endpoint_of_the_schema(schema_paths):
    docs = _normalised((ROOT / "docs" / "api.md").read_text())
    missing = [path for path in schema_paths if _normalised(path) not in docs]
    assert not missing, f"not in docs/api.md: {missing}"


def test_the_readme_points_frontends_at_the_repository_docs():
    readme = (ROOT / "README.md").read_text()
    assert "docs/api.md" in readme
    assert "shared/" not in readme
