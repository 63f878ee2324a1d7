"""The local web playground: an aiohttp page on 127.0.0.1 that speaks the same commands as the chat bots.

Like every adapter it only translates: HTTP form -> `Reelsmith.handle`, reply-stream events -> chat
messages (it is its own `bots.replies.ReplySink`). The chat log lives in Redis, so results that finish
while the page (or this process) is away are there when it comes back. It is the owner's moderator
console, so every request passes the gate (`gate.py`: Host, Origin, credentials, body type) and only the
owner's browser or scripts get in.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bots.replies import handler_for
from bots.web.access import Access
from bots.web.gate import Gate, add_security_headers
from bots.web.page import render as render_page
from bots.web.page import request_locale
from bots.web.signin import SignIn
from core.context import ChatContext
from core.i18n import N_, from_platform, locale_of, translate
from core.ops import ConfigError, HealthEndpoints, is_wildcard, process_metrics, url_host, web_bind_problem
from core.queue import ReplyConsumer, as_text
from core.selfservice import PREFILL
from core.service import Attachment, Outcome, Reelsmith, encoding_text, error_text, rendering_text
from core.types import DeleteResult, GenerationReply, Notice, Progress, Requester
from core.variants import image_caption

log = logging.getLogger(__name__)

PLATFORM = "web"
_CHAT_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_MESSAGES = 200
REMOVED_TEXT = N_("\U0001f5d1\ufe0f This result was removed by a moderator or its author.")
SERVICE_KEY: web.AppKey[WebPlayground] = web.AppKey("playground")


class WebPlayground:
    def __init__(self, service: Reelsmith, consumer_name: str = "web-1") -> None:
        self.service = service
        self.settings = service.settings
        self.redis = service.redis
        self.consumer = ReplyConsumer(self.redis, self.settings, PLATFORM, consumer_name)
        self.access = Access(self.settings)
        self.signin = SignIn(self.access)
        self._consumer_task: asyncio.Task[None] | None = None

    # ---- storage ------------------------------------------------------------------------
    def _chat_key(self, chat: str) -> str:
        return self.settings.key("web", "chat", chat)

    def _msg_key(self, msg_id: str) -> str:
        return self.settings.key("web", "msg", msg_id)

    def _job_key(self, job_id: str) -> str:
        return self.settings.key("web", "job", job_id)

    async def _save(self, msg: dict[str, Any], chat: str | None = None) -> None:
        msg["updated"] = time.time()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._msg_key(msg["id"]), json.dumps(msg), ex=self.settings.result_ttl_s)
            if chat is not None:
                pipe.rpush(self._chat_key(chat), msg["id"])
                pipe.ltrim(self._chat_key(chat), -MAX_MESSAGES, -1)
                pipe.expire(self._chat_key(chat), self.settings.result_ttl_s)
            await pipe.execute()

    async def _load(self, msg_id: str) -> dict[str, Any] | None:
        raw = await self.redis.get(self._msg_key(msg_id))
        return json.loads(raw) if raw else None

    async def post(self, chat: str, role: str, text: str, **extra: Any) -> dict[str, Any]:
        msg = {"id": uuid.uuid4().hex[:12], "role": role, "text": text, "media": [], "progress": None,
               "done": False, "created": time.time(), **extra}
        await self._save(msg, chat)
        return msg

    async def messages(self, chat: str) -> list[dict[str, Any]]:
        ids = await self.redis.lrange(self._chat_key(chat), 0, -1)
        out = []
        for raw in ids:
            msg = await self._load(as_text(raw))
            if msg:
                out.append(msg)
        return out

    # ---- reply delivery (bots.replies.ReplySink) -------------------------------------------
    async def notice(self, n: Notice, entry_id: str) -> None:
        """A message core asked for in a playground chat (e.g. a report, for the owner to review)."""
        if _CHAT_RE.match(n.chat_id):
            await self.post(n.chat_id, "bot", n.text, done=True,
                            media=[{"url": f"/media/{m.blob_key}", "mime": m.mime, "name": m.filename}
                                   for m in n.media],
                            buttons=[b.model_dump() for b in n.buttons])

    async def delete(self, d: DeleteResult) -> None:
        msg = await self._status_of(d.job_id)
        if msg is not None:
            request = await self.service.queue.load_request(d.job_id)  # a deletion carries no locale: the author's
            msg.update(text=translate(REMOVED_TEXT, from_platform(locale_of(request))), media=[], buttons=[])
            await self._save(msg)

    async def progress(self, p: Progress) -> None:
        """The job's status message shows a progress bar."""
        msg = await self._status_of(p.job_id)
        if msg is None or msg.get("done"):
            return
        if p.state == "encoding":
            # The page shows each image as soon as it is ready; the final reply replaces them with all of them.
            msg["text"] = encoding_text(len(p.media), p.total_steps)
            msg["progress"] = None
            msg["media"] = [{"url": f"/media/{m.blob_key}", "mime": m.mime, "name": m.filename,
                             "width": m.width, "height": m.height, "caption": ""} for m in p.media]
        else:
            msg["text"] = rendering_text(p.step, p.total_steps)
            msg["progress"] = {"step": p.step, "total": p.total_steps, "percent": int(p.fraction * 100)}
        await self._save(msg)

    async def reply(self, r: GenerationReply, entry_id: str) -> None:
        """The job's status message becomes its result (or its error), once."""
        msg = await self._status_of(r.job_id)
        if msg is None or msg.get("done"):
            return  # already delivered (a redelivery after a crash): do not post twice
        msg["done"] = True
        msg["progress"] = None
        msg["error"] = r.error is not None
        msg["text"] = error_text(r.error) if r.error else r.caption
        msg["media"] = [{"url": f"/media/{m.blob_key}", "mime": m.mime, "name": m.filename,
                         "width": m.width, "height": m.height, "caption": image_caption(r, i)}
                        for i, m in enumerate(r.media, start=1)]  # several images: the page shows a grid
        msg["spoiler"] = r.spoiler  # the page blurs it until clicked
        msg["buttons"] = [b.model_dump() for b in self.service.result_buttons(r)]  # the Cancel button goes
        await self._save(msg)

    async def _status_of(self, job_id: str) -> dict[str, Any] | None:
        msg_id = await self.redis.get(self._job_key(job_id))
        if msg_id is None:
            log.info("no status message for job %s", job_id)
            return None
        return await self._load(as_text(msg_id))

    # ---- HTTP ---------------------------------------------------------------------------
    async def index(self, request: web.Request) -> web.Response:
        answer = self.signin.before_page(request)
        if answer is not None:
            return answer
        locale = request_locale(request)
        return web.Response(text=render_page(locale), content_type="text/html",
                            headers={"Cache-Control": "no-store", "Vary": "Accept-Language"})

    async def command(self, request: web.Request) -> web.Response:
        text, chat, attachments = "", "", []
        if request.content_type == "application/json":
            body = await _json_body(request)
            if body is None:
                return _json({"ok": False, "error": BAD_JSON}, 400)
            text, chat = str(body.get("text", "")), str(body.get("chat", ""))
        else:
            try:
                form = await request.post()
            except web.HTTPRequestEntityTooLarge:
                return _json({"ok": False, "error": "Those files are too large."}, 413)
            text = str(form.get("text", ""))[: self.settings.max_prompt_chars * 8]
            chat = str(form.get("chat", "")).strip()
            for field in form.getall("files", []):
                if isinstance(field, web.FileField) and field.filename:
                    attachments.append(Attachment(field.file.read(), field.filename, field.content_type))
        if not _CHAT_RE.match(chat):
            return _json({"ok": False, "error": "Missing or bad chat id."}, 400)
        names = ", ".join(a.filename for a in attachments)
        await self.post(chat, "user", text[:2000] + (f"\n\U0001f4ce {names}" if names else ""))
        outcome = await self.service.handle(self._requester(chat, request), text, attachments, self._context(chat))
        return await self._answer(chat, outcome)

    async def button(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if body is None:
            return _json({"ok": False, "error": BAD_JSON}, 400)
        chat, data = str(body.get("chat", "")), str(body.get("data", ""))[:100]
        if not _CHAT_RE.match(chat):
            return _json({"ok": False, "error": "Missing or bad chat id."}, 400)
        outcome = await self.service.action(self._requester(chat, request), self._context(chat), data)
        return await self._answer(chat, outcome)

    @staticmethod
    def _requester(chat: str, request: web.Request) -> Requester:
        # The browser's languages, settled to a shipped catalog (`core.i18n`).
        locale = request_locale(request)
        return Requester(platform=PLATFORM, user_id=chat, chat_id=chat, display_name="playground", locale=locale)

    def _context(self, chat: str) -> ChatContext:
        # Only the owner gets past the gate: the playground's user moderates its own chats, whose rules bind
        # only that chat, so any playground user may be named there.
        return ChatContext(is_moderator=True, is_private=True, channel_id=chat, is_member=_anyone)

    async def _answer(self, chat: str, outcome: Outcome) -> web.Response:
        # A queued job's status message carries its Cancel button until the result (or error) replaces it.
        buttons = [*outcome.buttons, *(self.service.status_buttons(outcome.job_id, locale=locale_of(outcome.request))
                                        if outcome.job_id else [])]
        msg = await self.post(chat, "bot", outcome.text, job_id=outcome.job_id, error=not outcome.ok,
                              done=outcome.job_id is None, buttons=[b.model_dump() for b in buttons])
        if outcome.job_id:
            await self.redis.set(self._job_key(outcome.job_id), msg["id"], ex=self.settings.result_ttl_s)
        answer: dict[str, Any] = {"ok": outcome.ok, "job_id": outcome.job_id, "position": outcome.position,
                                  "message": msg}
        if outcome.extra.get(PREFILL):  # Edit: the page puts the command in its input box
            answer["prefill"] = outcome.extra[PREFILL]
        return _json(answer)

    async def list_messages(self, request: web.Request) -> web.Response:
        chat = request.query.get("chat", "")
        if not _CHAT_RE.match(chat):
            return _json({"error": "Missing or bad chat id."}, 400)
        return _json({"messages": await self.messages(chat)})

    async def media(self, request: web.Request) -> web.StreamResponse:
        """A stored medium, streamed from the media store (or a redirect to a presigned URL, when set)."""
        blob_id = request.match_info["blob"]
        url = await self.service.media_url(blob_id)
        if url is not None:
            raise web.HTTPFound(url, headers={"Cache-Control": "no-store"})
        opened = await self.service.open_media(blob_id)
        if opened is None:
            raise web.HTTPNotFound(text="This file has expired.")
        info, obj = opened
        response = web.StreamResponse(headers={"Cache-Control": "private, max-age=86400"})
        response.content_type = info.mime or "application/octet-stream"
        response.content_length = obj.size
        try:
            await response.prepare(request)
            async for chunk in obj.chunks:
                await response.write(chunk)
            await response.write_eof()
        finally:
            await obj.aclose()
        return response

    async def healthz(self, _request: web.Request) -> web.Response:
        try:
            await self.redis.ping()
        except Exception:
            return _json({"ok": False, "redis": "unreachable"}, 503)
        return _json({"ok": True})

    def build_app(self) -> web.Application:
        # The address it is bound to is a name browsers use for it too (a rebinding page arrives under its own).
        bound = [] if is_wildcard(self.settings.web_host) else [self.settings.web_host]
        gate = Gate(self.access, [*self.settings.web_public_hosts, *bound])
        app = web.Application(client_max_size=self.settings.max_reference_bytes * 10 + 1_000_000,
                              middlewares=[gate.middleware()])
        app[SERVICE_KEY] = self
        app.on_response_prepare.append(add_security_headers)
        app.router.add_get("/", self.index)
        app.router.add_post("/login", self.signin.login)
        app.router.add_post("/api/command", self.command)
        app.router.add_get("/api/messages", self.list_messages)
        app.router.add_post("/api/button", self.button)
        app.router.add_get("/media/{blob}", self.media)
        app.router.add_get("/healthz", self.healthz)
        HealthEndpoints(self.redis, self.settings, process_metrics(), role="web").add_routes(app, healthz=False)
        app.on_startup.append(self._start_consumer)
        app.on_cleanup.append(self._stop_consumer)
        return app

    async def _start_consumer(self, _app: web.Application) -> None:
        self._consumer_task = asyncio.create_task(self.consumer.run(handler_for(self)))

    async def _stop_consumer(self, _app: web.Application) -> None:
        if self._consumer_task is not None:
            self._consumer_task.cancel()
            try:
                await self._consumer_task
            except asyncio.CancelledError:
                pass


async def _anyone(_user_id: str) -> bool:
    return True


def _json(data: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


BAD_JSON = "The request body is not a JSON object."


async def _json_body(request: web.Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


@dataclass(frozen=True)
class Served:
    """A running playground: its runner (call `cleanup()` to stop) and a one-time sign-in link."""

    runner: web.AppRunner
    playground: WebPlayground
    sign_in_url: str

    async def stop(self) -> None:
        await self.runner.cleanup()


async def serve(service: Reelsmith, host: str, port: int) -> Served:
    """Start the playground; refuses an address other machines reach unless a token is configured."""
    problem = web_bind_problem(service.settings, host)
    if problem:
        raise ConfigError([problem])
    playground = WebPlayground(service)
    runner = web.AppRunner(playground.build_app())
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("playground on http://%s:%d/", host, port)
    url = f"http://{url_host(host)}:{port}/?token={playground.access.new_link_nonce()}"
    return Served(runner, playground, url)
