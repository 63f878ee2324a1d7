"""The bot host of the network-partition tests: submits jobs through the service and posts their replies.

Run as `python tests/faults/netns_bot.py OUT_DIR JOBS MEMBERS STEPS` with the usual REELSMITH_* / REDIS_URL
environment, inside a namespace. Jobs go through `Reelsmith.enqueue` (guards, quota reservation, queue), like a
member's command; each reply read from the platform stream is "posted" by appending `job_id ok|error` to
OUT_DIR/replies (then acknowledged, like an adapter does after the platform accepted a message). Accepted job
ids and their members go to OUT_DIR/accepted, then "submitted" is printed; it runs until terminated.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.context import ChatContext  # noqa: E402
from core.queue.connection import connect  # noqa: E402
from core.queue.replies import Event, ReplyConsumer  # noqa: E402
from core.service.features import build_service  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.types import GenerationRequest, JobKind, Requester  # noqa: E402

CONCURRENT_SUBMITS = 32


async def main(out: Path, jobs: int, members: int, steps: int) -> None:
    settings = Settings()
    service = build_service(settings, await connect(settings))
    posted = (out / "replies").open("a", buffering=1)

    async def post(event: Event) -> None:
        if event.reply is not None:
            posted.write(f"{event.reply.job_id} {'error' if event.reply.error else 'ok'}\n")

    consumer = ReplyConsumer(service.redis, settings, "web", "netns-bot")
    consumer.block_ms = 100
    reader = asyncio.create_task(consumer.run(post))
    people = [Requester(platform="web", user_id=f"m{i}", chat_id=f"c{i}") for i in range(members)]
    gate = asyncio.Semaphore(CONCURRENT_SUBMITS)

    async def submit(i: int) -> str | None:
        request = GenerationRequest(requester=people[i % members], kind=JobKind.IMAGE, prompt="a red fox",
                                    width=16, height=16, seed=i, steps=steps)
        async with gate:
            ok = (await service.enqueue(request, ChatContext())).ok
        return f"{request.job_id} {request.requester.user_id}" if ok else None

    accepted = [a for a in await asyncio.gather(*(submit(i) for i in range(jobs))) if a]
    (out / "accepted").write_text("".join(f"{a}\n" for a in accepted))
    print("submitted", len(accepted), flush=True)
    await reader


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
