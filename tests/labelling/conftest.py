"""Labelling tests: per-test settings overrides via `@pytest.mark.labelling_settings(...)`."""

from __future__ import annotations

import pytest

from core.settings import Settings


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "labelling_settings(**fields): override Settings fields for this test")


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    marker = request.node.get_closest_marker("labelling_settings")
    if marker is None:
        return settings
    return settings.model_copy(update=marker.kwargs)
