"""How fast a Telegram member sees "Queued (position N)": update served -> first sendMessage, through the real
python-telegram-bot Application, a fake Bot API server on 127.0.0.1 and a private Redis.

Prints the median and 95th percentile of that latency as a fraction of the 1 s the adapter promises, for a
plain command and for one whose photo (~0.6 MB JPEG) must be downloaded first (no worker runs: only the
adapter path is measured).
"""

from __future__ import annotations

import asyncio
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bots.telegram.app import TelegramBot  # noqa: E402
from core.queue.connection import connect  # noqa: E402
from core.queue.embedded_redis import EmbeddedRedis  # noqa: E402
from core.service.features import build_service  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.telegram.fake_api import FakeBotAPI  # noqa: E402

TARGET_S = 1.0
ROUNDS = 30


async def _measure(api: FakeBotAPI, caption_media: bool, photo: bytes) -> list[float]:
    out = []
    for i in range(ROUNDS):
        media = api.photo(photo) if caption_media else None
        text = f"/edit make it snow {i}" if caption_media else f"/imagine a fox number {i}"
        started = time.perf_counter()
        msg = (api.message(1001, 1001, caption=text, media=media) if caption_media
               else api.message(1001, 1001, text))
        await api.wait_until(lambda m=msg: api.replies_to(m))
        out.append(time.perf_counter() - started)
    return out


async def main() -> None:
    buf = io.BytesIO()
    Image.effect_noise((700, 700), 80).convert("RGB").save(buf, format="JPEG", quality=98)
    photo = buf.getvalue()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp), appendonly=False) as redis_server:
        api = FakeBotAPI()
        await api.start()
        settings = Settings(_env_file=None, redis_url=redis_server.url, data_dir=Path(tmp) / "data",
                            telegram_token=SecretStr(api.token), telegram_base_url=api.base_url,
                            telegram_base_file_url=api.base_file_url, telegram_poll_timeout_s=10)
        service = build_service(settings, await connect(settings))
        bot = TelegramBot(service)
        await bot.start()
        try:
            for label, with_media in (("text command", False), (f"photo {len(photo) / 1e6:.1f} MB", True)):
                times = sorted(await _measure(api, with_media, photo))
                p50, p95 = statistics.median(times), times[int(len(times) * 0.95) - 1]
                print(f"{label:>16}: first reply p50 {p50 * 1000:6.1f} ms ({p50 / TARGET_S:.3f} of 1 s), "
                      f"p95 {p95 * 1000:6.1f} ms ({p95 / TARGET_S:.3f} of 1 s), n={len(times)}")
        finally:
            await bot.stop()
            await service.redis.aclose()
            await api.stop()


if __name__ == "__main__":
    asyncio.run(main())
