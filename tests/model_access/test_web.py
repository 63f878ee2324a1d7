"""The playground: --model and /models through the shared grammar, end to end on the tiny models."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.playground import finished, send


async def test_models_and_the_model_flag_in_the_playground(web_client: TestClient[Any, Any], worker: Any) -> None:
    listing = await send(web_client, "room", "/models")
    assert "\u2022 reelsmith-tiny-image - text-to-image, image-to-image" in str(listing)
    refused = await send(web_client, "room", "/imagine a fox --model missing")
    assert "no model called 'missing'" in str(refused) and "reelsmith-tiny-image" in str(refused)
    queued = await send(web_client, "room", "/imagine a fox --model reelsmith-tiny-image")
    done = await finished(web_client, "room", queued["job_id"])
    assert done.get("media") and not done.get("error")
