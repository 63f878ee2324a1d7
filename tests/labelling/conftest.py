"""Labelling tests: per-test settings overrides via `@pytest.mark.labelling_settings(...)`.

`c2pa=True` writes a throwaway ES256 chain and key into the test's tmp_path and configures them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from tests.labelling.certs import es256_chain


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "labelling_settings(**fields): override Settings fields for this test")


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    marker = request.node.get_closest_marker("labelling_settings")
    if marker is None:
        return settings
    update = dict(marker.kwargs)
    if update.pop("c2pa", False):
        chain, key = es256_chain()
        (tmp_path / "chain.pem").write_text(chain)
        (tmp_path / "key.pem").write_text(key)
        update.update(c2pa_cert_path=tmp_path / "chain.pem", c2pa_key_path=tmp_path / "key.pem")
    return settings.model_copy(update=update)
