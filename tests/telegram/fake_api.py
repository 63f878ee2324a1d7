"""A fake Telegram Bot API server on 127.0.0.1: serves updates and files, records every call the bot makes.

The real python-telegram-bot `Application` talks to it over HTTP through `base_url`/`base_file_url`,
so requests, multipart uploads, error codes (400/429/502) and long polling go through PTB's own code.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

DOWNLOAD_LIMIT = 20 * 1024 * 1024
ADMIN_RIGHTS = {
    "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": True,
    "can_manage_video_chats": True, "can_restrict_members": True, "can_promote_members": False,
    "can_change_info": True, "can_invite_users": True, "can_post_stories": False, "can_edit_stories": False,
    "can_delete_stories": False,
}
SEND_METHODS = {"sendMessage", "sendPhoto", "sendVideo", "sendAnimation", "sendDocument", "sendMediaGroup"}
POSTING_METHODS = SEND_METHODS | {"sendChatAction", "editMessageText", "editMessageCaption", "sendInvoice"}
# Telegram's sender of messages an anonymous group admin posts "as the group" (sender_chat is the group).
GROUP_ANONYMOUS_BOT = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}


@dataclass
class Call:
    method: str
    params: dict[str, str]
    files: dict[str, bytes]
    status: int = 200
    result: Any = None
    filenames: dict[str, str] = field(default_factory=dict)  # each uploaded part's file name and type

    @property
    def ok(self) -> bool:
        return self.status == 200

    def json(self, key: str, default: Any = None) -> Any:
        return json.loads(self.params[key]) if key in self.params else default

    @property
    def chat_id(self) -> int:
        return int(self.params["chat_id"])

    def upload(self, name: str) -> bytes:
        """The bytes uploaded for parameter `name` (sent as a multipart file)."""
        value = self.params.get(name, "")
        key = value[len("attach://"):] if value.startswith("attach://") else name
        return self.files[key]

    def album(self) -> list[tuple[bytes, dict[str, Any]]]:
        """sendMediaGroup: each item's uploaded bytes (`attach://<name>`) and its InputMedia fields."""
        items = self.json("media") or []
        return [(self.files[item["media"][len("attach://"):]], item) for item in items]

    def callback_data(self) -> list[str]:
        markup = self.json("reply_markup") or {}
        return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class Failure:
    status: int
    body: dict[str, Any]


@dataclass
class FakeBotAPI:
    token: str = "123456789:AAH-fake-token-for-reelsmith-tests"
    username: str = "ReelsmithBot"
    bot_id: int = 123456789
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, tuple[bytes, int, str]] = field(default_factory=dict)
    members: dict[tuple[int, int], str] = field(default_factory=dict)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    # Inline mode: the messages members posted through the bot, by inline_message_id (no chat is known).
    inline_messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    inline_answers: dict[str, Call] = field(default_factory=dict)
    bot_files: set[str] = field(default_factory=set)  # file_ids of what the bot uploaded
    # Telegram Stars: each invoice's payment, by its charge id, and the pre-checkout answers by query id.
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    checkout_answers: dict[str, Call] = field(default_factory=dict)
    port: int = 0

    def __post_init__(self) -> None:
        self._ids = itertools.count(1000)
        self._update_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._answered = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._pushed: list[dict[str, Any]] = []

    # ---- server -------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ---- scripting ----------------------------------------------------------------------
    def fail_next(self, method: str, *, retry_after: int | None = None, status: int | None = None,
                  description: str = "Bad Gateway") -> None:
        """Make the next call of `method` fail: a 429 with retry_after, or any status (502: network error)."""
        if retry_after is not None:
            failure = Failure(429, {"ok": False, "error_code": 429,
                                    "description": f"Too Many Requests: retry after {retry_after}",
                                    "parameters": {"retry_after": retry_after}})
        else:
            code = status or 502
            failure = Failure(code, {"ok": False, "error_code": code, "description": description})
        self.failures.setdefault(method, []).append(failure)

    def block(self, chat_id: int) -> None:
        """The bot may no longer post in this chat (a member blocked it, or a group removed it): every send,
        edit and chat action there is answered 403, as Telegram does."""
        self.blocked.add(chat_id)

    def add_file(self, data: bytes, *, size: int | None = None, ext: str = "bin") -> dict[str, Any]:
        """Register a downloadable file; `size` overrides the size Telegram reports (for oversized files)."""
        n = next(self._ids)
        file_id = f"file{n}"
        self.files[file_id] = (data, len(data) if size is None else size, f"documents/file_{n}.{ext}")
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data) if size is None else size}

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        """A user's status in a group: creator, administrator, member, left or kicked (unknown users: left)."""
        self.members[(chat_id, user_id)] = status

    def _joined(self, chat_id: int, user_id: int) -> None:
        # Whoever writes or presses a button in a group is in it (unless the test said otherwise).
        if chat_id < 0:
            self.members.setdefault((chat_id, user_id), "member")

    def push(self, body: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, **body})
        self._pushed.append(body)
        self._new_update.set()
        return update_id

    @staticmethod
    def user(user_id: int, name: str = "Alice", language_code: str | None = None) -> dict[str, Any]:
        """A Telegram user; `language_code` is their app's language (an IETF tag), sent only when set."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": name}
        if language_code is not None:
            user["language_code"] = language_code
        return user

    @staticmethod
    def chat(chat_id: int) -> dict[str, Any]:
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Alice"}
        return {"id": chat_id, "type": "supergroup", "title": "Test group"}

    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Reelsmith", "username": self.username}

    def message(self, chat_id: int, user_id: int, text: str | None = None, *, caption: str | None = None,
                media: dict[str, Any] | None = None, reply_to: dict[str, Any] | None = None,
                push: bool = True, anonymous: bool = False, language_code: str | None = None) -> dict[str, Any]:
        """A member's message (pushed as an update unless push=False).

        `anonymous`: an anonymous admin posting as the group (from GroupAnonymousBot, sender_chat = the group).
        """
        sender = dict(GROUP_ANONYMOUS_BOT) if anonymous else self.user(user_id, language_code=language_code)
        msg: dict[str, Any] = {"message_id": next(self._ids), "date": int(time.time()),
                               "chat": self.chat(chat_id), "from": sender, **(media or {})}
        if anonymous:
            msg["sender_chat"] = self.chat(chat_id)
        else:
            self._joined(chat_id, user_id)
        for key, value in (("text", text), ("caption", caption)):
            if value is not None:
                msg[key] = value
                if value.startswith("/"):
                    msg["entities" if key == "text" else "caption_entities"] = [
                        {"type": "bot_command", "offset": 0, "length": len(value.split()[0])}]
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        self.messages[(chat_id, msg["message_id"])] = msg
        if push:
            self.push({"message": msg})
        return msg

    def press(self, chat_id: int, user_id: int, message: dict[str, Any], data: str,
              language_code: str | None = None) -> None:
        """A member pressing an inline button under `message`."""
        self._joined(chat_id, user_id)
        self.push({"callback_query": {"id": str(next(self._ids)),
                                      "from": self.user(user_id, language_code=language_code),
                                      "chat_instance": f"ci{chat_id}", "data": data, "message": message}})

    # ---- inline mode ----------------------------------------------------------------------
    def inline_query(self, user_id: int, query: str, chat_type: str = "supergroup",
                     language_code: str | None = None) -> str:
        """A member typing `@Bot <query>` in some chat; returns the query id (answerInlineQuery answers it)."""
        query_id = f"iq{next(self._ids)}"
        self.push({"inline_query": {"id": query_id, "from": self.user(user_id, language_code=language_code),
                                    "query": query, "offset": "", "chat_type": chat_type}})
        return query_id

    def choose(self, user_id: int, query_id: str, result_id: str) -> str | None:
        """The member picking one result of an answered inline query: Telegram posts it in their chat and (with
        inline feedback on, /setinlinefeedback) sends chosen_inline_result; the message gets an
        inline_message_id only when the result carried an inline keyboard. Returns that id."""
        answer = self.inline_answers[query_id]
        result = next(r for r in answer.json("results") if r["id"] == result_id)
        inline_id: str | None = None
        if "reply_markup" in result:
            inline_id = f"im{next(self._ids)}"
            content = result.get("input_message_content") or {}
            self.inline_messages[inline_id] = {"text": content.get("message_text", ""),
                                               "reply_markup": result["reply_markup"], "from_result": result}
        query = next(u["inline_query"] for u in self._pushed if u.get("inline_query", {}).get("id") == query_id)
        sender = query["from"] if query["from"]["id"] == user_id else self.user(user_id)  # same app language
        chosen: dict[str, Any] = {"result_id": result_id, "from": sender, "query": query["query"]}
        if inline_id is not None:
            chosen["inline_message_id"] = inline_id
        self.push({"chosen_inline_result": chosen})
        return inline_id

    # ---- Telegram Stars -------------------------------------------------------------------
    def pay(self, user_id: int, invoice: Call, *, amount: int | None = None, language_code: str | None = None) -> str:
        """The member pressing Pay on an invoice: a pre_checkout_query (the bot must answer within 10 s)."""
        query_id = f"pc{next(self._ids)}"
        prices = invoice.json("prices") or []
        self.push({"pre_checkout_query": {
            "id": query_id, "from": self.user(user_id, language_code=language_code),
            "currency": invoice.params["currency"],
            "total_amount": sum(p["amount"] for p in prices) if amount is None else amount,
            "invoice_payload": invoice.params["payload"]}})
        return query_id

    def complete_payment(self, user_id: int, query_id: str, *, deliver: bool = True) -> str:
        """Telegram takes the Stars after an ok pre-checkout answer and sends the successful_payment message
        (unless `deliver` is False: the update was lost, e.g. confirmed by a bot that then crashed). Returns
        the telegram_payment_charge_id."""
        answer = self.checkout_answers[query_id]
        assert answer.params.get("ok") == "true", "Telegram takes no payment the bot declined"
        query = next(u["pre_checkout_query"] for u in self._pushed
                     if u.get("pre_checkout_query", {}).get("id") == query_id)
        charge = f"stxCharge{next(self._ids)}"
        self.payments[charge] = {"user_id": user_id, "amount": query["total_amount"], "date": int(time.time()),
                                 "payload": query["invoice_payload"], "refunded": False}
        if deliver:
            self.deliver_payment(charge)
        return charge

    def deliver_payment(self, charge: str) -> dict[str, Any]:
        """(Re)send the successful_payment service message of a charge (a redelivered update)."""
        p = self.payments[charge]
        msg: dict[str, Any] = {"message_id": next(self._ids), "date": p["date"], "chat": self.chat(p["user_id"]),
                               "from": self.user(p["user_id"]),
                               "successful_payment": {"currency": "XTR", "total_amount": p["amount"],
                                                      "invoice_payload": p["payload"],
                                                      "telegram_payment_charge_id": charge,
                                                      "provider_payment_charge_id": ""}}
        self.push({"message": msg})
        return msg

    # media payloads for `message(media=...)`
    def photo(self, data: bytes, thumb: bytes = b"\xff\xd8\xffthumb") -> dict[str, Any]:
        small = {**self.add_file(thumb, ext="jpg"), "width": 90, "height": 90}
        big = {**self.add_file(data, ext="jpg"), "width": 800, "height": 800}
        return {"photo": [small, big]}

    def document(self, data: bytes, name: str, mime: str, size: int | None = None) -> dict[str, Any]:
        return {"document": {**self.add_file(data, size=size), "file_name": name, "mime_type": mime}}

    def video(self, data: bytes, size: int | None = None) -> dict[str, Any]:
        return {"video": {**self.add_file(data, size=size, ext="mp4"), "width": 64, "height": 64, "duration": 1,
                          "mime_type": "video/mp4"}}

    def animation(self, data: bytes) -> dict[str, Any]:
        f = self.add_file(data, ext="mp4")
        return {"animation": {**f, "width": 64, "height": 64, "duration": 1, "mime_type": "video/mp4",
                              "file_name": "dance.gif.mp4"},
                "document": {**f, "file_name": "dance.gif.mp4", "mime_type": "video/mp4"}}

    def audio(self, data: bytes) -> dict[str, Any]:
        return {"audio": {**self.add_file(data, ext="mp3"), "duration": 3, "mime_type": "audio/mpeg",
                          "file_name": "song.mp3"}}

    def sticker(self, data: bytes, *, animated: bool = False, video: bool = False) -> dict[str, Any]:
        """A sticker: WebP, or `animated` (TGS, a Lottie animation), or `video` (WebM)."""
        ext = "tgs" if animated else "webm" if video else "webp"
        return {"sticker": {**self.add_file(data, ext=ext), "type": "regular", "width": 512, "height": 512,
                            "is_animated": animated, "is_video": video}}

    def voice(self, data: bytes) -> dict[str, Any]:
        return {"voice": {**self.add_file(data, ext="oga"), "duration": 2, "mime_type": "audio/ogg"}}

    # ---- queries ------------------------------------------------------------------------
    async def wait_until(self, predicate: Callable[[], object], timeout: float = 30.0) -> None:
        """Wake on each answered call until `predicate()` holds."""
        while True:
            answered = self._answered
            if predicate():
                return
            await asyncio.wait_for(answered.wait(), timeout)

    def sent(self, *methods: str, chat_id: int | None = None) -> list[Call]:
        """Successful calls of these methods (all sends when none given), oldest first."""
        names = set(methods) or SEND_METHODS
        return [c for c in self.calls if c.method in names and c.ok
                and (chat_id is None or c.params.get("chat_id") == str(chat_id))]

    def menu(self, language_code: str | None = None) -> Call:
        """The one setMyCommands call for `language_code` (None: the default menu, for every other language)."""
        [call] = [c for c in self.sent("setMyCommands") if c.params.get("language_code") == language_code]
        return call

    def attempts(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def replies_to(self, message: dict[str, Any], method: str = "sendMessage") -> list[Call]:
        return [c for c in self.sent(method)
                if (c.json("reply_parameters") or {}).get("message_id") == message["message_id"]]

    # ---- handlers -----------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params: dict[str, str] = {}
        files: dict[str, bytes] = {}
        filenames: dict[str, str] = {}
        if request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = value.file.read()
                    filenames[key] = f"{value.filename} {value.content_type}"
                else:
                    params[key] = str(value)
        call = Call(method, params, files, filenames=filenames)
        self.calls.append(call)
        if method in POSTING_METHODS and params.get("chat_id", "").lstrip("-").isdigit() \
                and int(params["chat_id"]) in self.blocked:
            call.status = 403
            return web.json_response({"ok": False, "error_code": 403,
                                      "description": "Forbidden: bot was blocked by the user"}, status=403)
        queued = self.failures.get(method)
        if queued:
            failure = queued.pop(0)
            call.status = failure.status
            return web.json_response(failure.body, status=failure.status)
        handler = getattr(self, f"_m_{method}", None)
        try:
            result = await handler(call) if handler is not None else True
        except _ApiError as exc:
            call.status = exc.status
            return web.json_response({"ok": False, "error_code": exc.status, "description": exc.description},
                                     status=exc.status)
        call.result = result
        self._answered.set()
        self._answered = asyncio.Event()
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        self.calls.append(Call("download", {"path": path}, {}))
        for data, _size, file_path in self.files.values():
            if file_path == path:
                return web.Response(body=data)
        return web.Response(status=404)

    # ---- Bot API methods ----------------------------------------------------------------
    async def _m_getMe(self, call: Call) -> Any:
        return {**self.bot_user(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": True}

    async def _m_getUpdates(self, call: Call) -> Any:
        offset = int(call.params.get("offset", "0") or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        timeout = float(call.params.get("timeout", "0") or 0)
        if not self.updates and timeout > 0:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout)
            except TimeoutError:
                pass
        return list(self.updates)

    def _new_message(self, call: Call, **content: Any) -> dict[str, Any]:
        chat_id = call.chat_id
        msg: dict[str, Any] = {"message_id": next(self._ids), "date": int(time.time()), "chat": self.chat(chat_id),
                               "from": self.bot_user(), **content}
        if "inline_keyboard" in (call.json("reply_markup") or {}):  # a Message carries only inline keyboards
            msg["reply_markup"] = call.json("reply_markup")
        if "caption" in call.params:
            msg["caption"] = call.params["caption"]
        self.messages[(chat_id, msg["message_id"])] = msg
        return msg

    def _uploaded(self, call: Call, name: str) -> dict[str, Any]:
        data = call.upload(name)
        self.bot_files.add(f"sent{len(self.calls)}")
        return {"file_id": f"sent{len(self.calls)}", "file_unique_id": f"usent{len(self.calls)}",
                "file_size": len(data)}

    async def _m_sendMessage(self, call: Call) -> Any:
        return self._new_message(call, text=call.params["text"])

    async def _m_sendPhoto(self, call: Call) -> Any:
        return self._new_message(call, photo=[{**self._uploaded(call, "photo"), "width": 64, "height": 64}])

    async def _m_sendVideo(self, call: Call) -> Any:
        return self._new_message(call, video={**self._uploaded(call, "video"), "width": 64, "height": 64,
                                              "duration": 1})

    async def _m_sendAnimation(self, call: Call) -> Any:
        f = self._uploaded(call, "animation")
        return self._new_message(call, animation={**f, "width": 64, "height": 64, "duration": 1}, document=f)

    async def _m_sendMediaGroup(self, call: Call) -> Any:
        """Bot API sendMediaGroup: 2-10 photos/videos (or documents/audios, not mixed) as one album; returns its
        messages, which share a media_group_id; only items carry captions, an album takes no reply_markup."""
        items = call.json("media") or []
        if not 2 <= len(items) <= 10:
            raise _ApiError(400, "Bad Request: wrong number of media in the album")
        if "reply_markup" in call.params:
            raise _ApiError(400, "Bad Request: albums can't have a reply markup")
        group = f"g{len(self.calls)}"
        out = []
        for n, item in enumerate(items):
            name = item["media"][len("attach://"):]
            if item.get("type") != "photo" or name not in call.files:
                raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            f = {"file_id": f"sent{len(self.calls)}_{n}", "file_unique_id": f"usent{len(self.calls)}_{n}",
                 "file_size": len(call.files[name])}
            msg = self._new_message(call, photo=[{**f, "width": 64, "height": 64}], media_group_id=group)
            if item.get("caption"):
                msg["caption"] = item["caption"]
            out.append(msg)
        return out

    async def _m_sendDocument(self, call: Call) -> Any:
        return self._new_message(call, document=self._uploaded(call, "document"))

    def _existing(self, call: Call, what: str) -> dict[str, Any]:
        msg = self.messages.get((call.chat_id, int(call.params["message_id"])))
        if msg is None:
            raise _ApiError(400, f"Bad Request: message to {what} not found")
        return msg

    def _inline(self, call: Call) -> dict[str, Any]:
        msg = self.inline_messages.get(call.params["inline_message_id"])
        if msg is None:
            raise _ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        return msg

    @staticmethod
    def _keep_keyboard(call: Call, msg: dict[str, Any]) -> None:
        # As the Bot API does: an edit without reply_markup drops the inline keyboard.
        if "inline_keyboard" in (call.json("reply_markup") or {}):
            msg["reply_markup"] = call.json("reply_markup")
        else:
            msg.pop("reply_markup", None)

    async def _m_editMessageText(self, call: Call) -> Any:
        if "inline_message_id" in call.params:  # an inline message: the answer is True, not the Message
            msg = self._inline(call)
            if msg.get("text") == call.params["text"]:
                raise _ApiError(400, "Bad Request: message is not modified")
            msg["text"] = call.params["text"]
            self._keep_keyboard(call, msg)
            return True
        msg = self._existing(call, "edit")
        if msg.get("text") == call.params["text"]:
            raise _ApiError(400, "Bad Request: message is not modified: specified new message content and "
                                 "reply markup are exactly the same as a current content and reply markup")
        msg["text"] = call.params["text"]
        # As the Bot API does: an edit without reply_markup drops the inline keyboard.
        if "inline_keyboard" in (call.json("reply_markup") or {}):
            msg["reply_markup"] = call.json("reply_markup")
        else:
            msg.pop("reply_markup", None)
        return msg

    async def _m_editMessageMedia(self, call: Call) -> Any:
        """Bot API editMessageMedia. For an inline message "a new file can't be uploaded: use a previously uploaded
        file via its file_id or specify a URL"; the fake knows only the file_ids it handed out."""
        media = call.json("media") or {}
        ref = str(media.get("media", ""))
        if "inline_message_id" not in call.params:
            raise _ApiError(400, "Bad Request: the fake edits media of inline messages only")
        msg = self._inline(call)
        if ref.startswith("attach://"):
            raise _ApiError(400, "Bad Request: can't upload a new file when editing an inline message")
        if ref not in self.bot_files:
            raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        msg.pop("text", None)
        msg["media"] = media
        msg["caption"] = media.get("caption", "")
        self._keep_keyboard(call, msg)
        return True

    async def _m_answerInlineQuery(self, call: Call) -> Any:
        query_id = call.params["inline_query_id"]
        if query_id in self.inline_answers:
            raise _ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        results = call.json("results") or []
        if len(results) > 50 or len({r["id"] for r in results}) != len(results):
            raise _ApiError(400, "Bad Request: RESULT_ID_DUPLICATE or too many results")
        self.inline_answers[query_id] = call
        return True

    async def _m_sendInvoice(self, call: Call) -> Any:
        """Bot API sendInvoice; for Telegram Stars the currency is XTR, provider_token empty, one price."""
        prices = call.json("prices") or []
        if call.params.get("currency") == "XTR" and (call.params.get("provider_token") or len(prices) != 1):
            raise _ApiError(400, "Bad Request: XTR invoices take an empty provider_token and exactly one price")
        if not 1 <= len(call.params.get("payload", "").encode()) <= 128:
            raise _ApiError(400, "Bad Request: INVOICE_PAYLOAD_INVALID")
        return self._new_message(call, invoice={
            "title": call.params["title"], "description": call.params["description"],
            "start_parameter": call.params.get("start_parameter", ""), "currency": call.params["currency"],
            "total_amount": sum(p["amount"] for p in prices)})

    async def _m_answerPreCheckoutQuery(self, call: Call) -> Any:
        query_id = call.params["pre_checkout_query_id"]
        if query_id in self.checkout_answers:
            raise _ApiError(400, "Bad Request: QUERY_ID_INVALID")
        if call.params.get("ok") != "true" and not call.params.get("error_message"):
            raise _ApiError(400, "Bad Request: an error_message is required when ok is false")
        self.checkout_answers[query_id] = call
        return True

    async def _m_refundStarPayment(self, call: Call) -> Any:
        p = self.payments.get(call.params["telegram_payment_charge_id"])
        if p is None or p["user_id"] != int(call.params["user_id"]):
            raise _ApiError(400, "Bad Request: CHARGE_NOT_FOUND")
        if p["refunded"]:
            raise _ApiError(400, "Bad Request: CHARGE_ALREADY_REFUNDED")
        p["refunded"] = True
        return True

    async def _m_getStarTransactions(self, call: Call) -> Any:
        """Incoming payments (source: the paying user, with the invoice payload) and refunds (receiver: the user;
        the same id as the payment), newest first."""
        out: list[dict[str, Any]] = []
        for charge, p in self.payments.items():
            user = self.user(p["user_id"])
            out.append({"id": charge, "amount": p["amount"], "date": p["date"],
                        "source": {"type": "user", "transaction_type": "invoice_payment", "user": user,
                                   "invoice_payload": p["payload"]}})
            if p["refunded"]:
                out.append({"id": charge, "amount": p["amount"], "date": p["date"],
                            "receiver": {"type": "user", "transaction_type": "invoice_payment", "user": user}})
        out.reverse()
        offset, limit = int(call.params.get("offset", "0") or 0), int(call.params.get("limit", "100") or 100)
        return {"transactions": out[offset:offset + limit]}

    async def _m_editMessageCaption(self, call: Call) -> Any:
        if "inline_message_id" in call.params:
            msg = self._inline(call)
            msg["caption"] = call.params.get("caption", "")
            self._keep_keyboard(call, msg)
            return True
        msg = self._existing(call, "edit")
        if "text" in msg:
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        msg["caption"] = call.params.get("caption", "")
        msg.pop("reply_markup", None)
        return msg

    async def _m_deleteMessage(self, call: Call) -> Any:
        self._existing(call, "delete")
        del self.messages[(call.chat_id, int(call.params["message_id"]))]
        return True

    async def _m_getChatMember(self, call: Call) -> Any:
        user_id = int(call.params["user_id"])
        if call.chat_id > 0:  # a private chat: its one user
            status = "member" if user_id == call.chat_id else "left"
        else:
            status = self.members.get((call.chat_id, user_id), "left")  # never joined reads as left
        member: dict[str, Any] = {"status": status, "user": self.user(user_id)}
        if status == "administrator":
            member.update(ADMIN_RIGHTS)
        elif status == "creator":
            member["is_anonymous"] = False
        elif status == "kicked":
            member["until_date"] = 0
        return member

    async def _m_getFile(self, call: Call) -> Any:
        file_id = call.params["file_id"]
        if file_id not in self.files:
            raise _ApiError(400, "Bad Request: invalid file_id")
        _data, size, path = self.files[file_id]
        if size > DOWNLOAD_LIMIT:
            raise _ApiError(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size, "file_path": path}


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
