"""Both media stores, for the contract suite: the filesystem store and the S3 store on a moto server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.settings import Settings
from core.storage import MediaStore, build_media_store
from tests.conftest import s3_media_settings

_stores = iter(range(1_000_000))


@pytest.fixture(params=["filesystem", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MediaStore]:
    """A fresh, empty media store of each kind (the S3 one under a prefix of its own)."""
    if request.param == "filesystem":
        settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        settings = Settings(_env_file=None, **s3_media_settings(endpoint, prefix=f"contract{next(_stores)}/"))
    yield build_media_store(settings)
