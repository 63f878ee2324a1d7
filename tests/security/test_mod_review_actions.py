# ruff: noqa: F811  (pytest fixtures imported from the Telegram suite are parameters here)
"""Review buttons act only on their platform's jobs and only on open reports (issue 14, sections 1 and 2).

Every caption prints its job id, and review actions are plain `rs:<action>:<job>` payloads, so the
playground's review chat could ban Telegram members and delete their results, and a review chat could act on
any job nobody reported. Driven through the playground over HTTP and the real Telegram bot.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bots.telegram.app import TelegramBot
from core.service import button_data
from core.service.facade import Reelsmith
from core.settings import Settings
from tests.conftest import wait_for
from tests.security.mod_helpers import for_telegram, say, toast
from tests.telegram.conftest import ALICE, GROUP, api, bot, until  # noqa: F401  (fixtures)
from tests.telegram.fake_api import FakeBotAPI


@pytest.fixture
def settings(settings: Settings, api: FakeBotAPI) -> Settings:
    return for_telegram(settings, api, quota_max_in_flight=10)


async def _press(client: TestClient[Any, Any], chat: str, data: str) -> dict[str, Any]:
    resp = await client.post("/api/button", json={"chat": chat, "data": data})
    assert resp.status == 200
    return dict(await resp.json())


async def _command(client: TestClient[Any, Any], chat: str, text: str) -> dict[str, Any]:
    resp = await client.post("/api/command", json={"chat": chat, "text": text})
    assert resp.status == 200
    return dict(await resp.json())


async def _messages(client: TestClient[Any, Any], chat: str) -> list[dict[str, Any]]:
    resp = await client.get("/api/messages", params={"chat": chat})
    return list((await resp.json())["messages"])


async def _status_text(client: TestClient[Any, Any], chat: str, job_id: str) -> str:
    return str(next(m for m in await _messages(client, chat) if m.get("job_id") == job_id)["text"])


async def _photos(api: FakeBotAPI, n: int) -> list[Any]:
    return await until(lambda: len(api.sent("sendPhoto", chat_id=GROUP)) >= n and api.sent("sendPhoto", chat_id=GROUP),
                       timeout=60)


async def test_the_web_review_chat_cannot_touch_a_telegram_job(api: FakeBotAPI, bot: TelegramBot, worker: Any,
                                                              web_client: TestClient[Any, Any],
                                                              service: Reelsmith) -> None:
    assert "Queued" in await say(api, GROUP, ALICE, "/imagine a fox")
    [result] = await _photos(api, 1)
    report = next(d for d in result.callback_data() if d.startswith("rs:report:"))
    job_id = report.rsplit(":", 1)[1]
    api.press(GROUP, ALICE, result.result, report)  # a Telegram member reports it: the report is open
    assert "moderators will review" in await toast(api, 0)

    for action in ("mban", "mdel", "mdis"):
        out = await _press(web_client, "review", button_data(action, job_id))
        assert not out["ok"] and "another platform" in out["message"]["text"], (action, out)
    assert "Queued" in await say(api, GROUP, ALICE, "/imagine another fox")  # not banned
    await _photos(api, 2)  # replies are delivered in order: a delete would have come first
    kept = str(result.result["message_id"])
    assert [c for c in api.sent("deleteMessage", "editMessageCaption") if c.params["message_id"] == kept] == []
    assert (GROUP, result.result["message_id"]) in api.messages


async def test_a_review_button_without_an_open_report_does_nothing(web_client: TestClient[Any, Any]) -> None:
    sent = await _command(web_client, "pub", "/imagine a red fox")
    job_id = sent["job_id"]
    assert job_id
    for action in ("mdel", "mban", "mdis"):
        out = await _press(web_client, "review", button_data(action, job_id))
        assert not out["ok"] and "no open report" in out["message"]["text"], (action, out)
    assert (await _command(web_client, "pub", "/imagine another fox"))["ok"]  # not banned

    # Once reported, the review chat acts (each action once); dismissing closes the report.
    assert (await _press(web_client, "pub", button_data("report", job_id)))["ok"]

    async def notice() -> bool:
        return any(m.get("buttons") for m in await _messages(web_client, "review"))

    await wait_for(notice)  # replies are handled in order: a delete published earlier would show by now
    assert "removed by a moderator" not in await _status_text(web_client, "pub", job_id)
    assert (await _press(web_client, "review", button_data("mdel", job_id)))["ok"]

    async def removed() -> bool:
        return "removed by a moderator" in await _status_text(web_client, "pub", job_id)

    await wait_for(removed)
    assert (await _press(web_client, "review", button_data("mdis", job_id)))["ok"]
    out = await _press(web_client, "review", button_data("mban", job_id))
    assert not out["ok"] and "no open report" in out["message"]["text"], out
    assert (await _command(web_client, "pub", "/imagine a third fox"))["ok"]
