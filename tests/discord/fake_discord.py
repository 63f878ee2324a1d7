"""A local fake Discord for tests: the REST routes the bot uses and a JSON websocket gateway, on 127.0.0.1.

The real discord.py client talks to it (REST base via `discord.http.Route.BASE`, gateway URL from
`GET /gateway/bot`). It records interaction callbacks, webhook edits/follow-ups and channel messages,
serves attachment bytes as a CDN, and can inject 429s, expired tokens and missing permissions. It knows
which users are members of which server (anyone who interacts there, plus `add_member`) and answers
`GET /guilds/{guild}/members/{user}` with the member or Discord's 404 "Unknown Member"; more servers
(with their own roles) can join with `add_guild`, and interactions can come from threads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from discord.utils import time_snowflake

APP_ID = 910000000000000001
GUILD_ID = 920000000000000001
CHANNEL_ID = 930000000000000001
LOCKED_CHANNEL_ID = 930000000000000002  # the bot may not post here
REVIEW_CHANNEL_ID = 930000000000000003
DM_CHANNEL_ID = 940000000000000001
USER_ID = 950000000000000001
MOD_ROLE_ID = 960000000000000001
THREAD_ID = 970000000000000001  # a public thread under CHANNEL_ID
GROUP_DM_ID = 941000000000000001  # a group DM the bot is never in (reached through a member's own install)
SKU_ID = 980000000000000001  # a subscription SKU of the app
ALL_PERMS = (1 << 41) - 1
MEMBER_PERMS = (1 << 10) | (1 << 11) | (1 << 15) | (1 << 31)  # view, send, attach, use app commands
MANAGE_GUILD = 1 << 5
TS = "2026-01-01T00:00:00.000000+00:00"

def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """discord.py parses JSON only under exactly `application/json` (no charset), as Discord sends it."""
    return web.Response(body=json.dumps(data).encode(), status=status, headers=headers,
                        content_type="application/json")


BOT_USER = {"id": str(APP_ID), "username": "reelsmith", "discriminator": "0", "global_name": None,
            "avatar": None, "bot": True, "public_flags": 0, "flags": 0}
MEMBER_USER = {"id": str(USER_ID), "username": "alice", "discriminator": "0", "global_name": "Alice",
               "avatar": None, "public_flags": 0}


def person(user_id: int, name: str) -> dict[str, Any]:
    """A Discord user object."""
    return {"id": str(user_id), "username": name.lower(), "discriminator": "0", "global_name": name,
            "avatar": None, "public_flags": 0}


def role(role_id: int, name: str, position: int = 1) -> dict[str, Any]:
    """A role object; `role(guild_id, "@everyone", 0)` is a server's default role."""
    return {"id": str(role_id), "name": name, "permissions": str(MEMBER_PERMS), "position": position,
            "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}


@dataclass
class Sent:
    """A message as the fake stores it, with the bytes of its files."""

    payload: dict[str, Any]
    files: list[tuple[str, bytes]] = field(default_factory=list)
    via: str = ""  # "interaction", "followup", "channel"
    ephemeral: bool = False
    deleted: bool = False
    edits: int = 0
    history: list[str] = field(default_factory=list)  # every content it had, in order

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def content(self) -> str:
        return str(self.payload.get("content", ""))

    @property
    def premium_skus(self) -> list[str]:
        """The SKU ids of its premium buttons (style 6)."""
        return [str(c["sku_id"]) for row in self.payload.get("components", []) for c in row.get("components", [])
                if c.get("style") == 6 and "sku_id" in c]

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for row in self.payload.get("components", []) for c in row.get("components", [])
                if "custom_id" in c]


class FakeDiscord:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.messages: dict[int, Sent] = {}
        self.callbacks: list[dict[str, Any]] = []
        self.tokens: dict[str, dict[str, Any]] = {}
        self.cdn: dict[str, bytes] = {}
        self.registered: dict[str, list[dict[str, Any]]] = {}
        self.fail: list[tuple[str, re.Pattern[str], int, dict[str, str], bool, float]] = []
        self.failed: list[str] = []
        self.requests: list[str] = []
        self.timeline: list[tuple[float, str, bool]] = []  # (monotonic time, "METHOD path", carries files)
        self.ws: web.WebSocketResponse | None = None
        self.seq = 0
        self.identifies = 0
        self.resumes = 0
        self.connected = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0
        # Servers the bot is in: id -> extra roles (besides @everyone); and who is a member of each.
        self.guild_roles: dict[int, list[dict[str, Any]]] = {GUILD_ID: [role(MOD_ROLE_ID, "Reelsmith Mods")]}
        self.members: dict[int, dict[int, dict[str, Any]]] = {GUILD_ID: {USER_ID: MEMBER_USER}}
        self.entitlements: dict[str, dict[str, Any]] = {}  # active, by id (`entitlement_event`)
        self.unreachable: set[int] = set()  # channels the bot is not in (group DMs, servers of user installs)

    # ---- lifecycle ----------------------------------------------------------------------
    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self._middleware])
        r = app.router
        r.add_get("/api/v10/users/@me", lambda _r: _json(BOT_USER))
        r.add_get("/api/v10/oauth2/applications/@me", self._app_info)
        r.add_get("/api/v10/gateway/bot", self._gateway_info)
        r.add_get("/gateway", self._gateway)
        r.add_put("/api/v10/applications/{app}/commands", self._register)
        r.add_put("/api/v10/applications/{app}/guilds/{guild}/commands", self._register)
        r.add_post("/api/v10/interactions/{iid}/{token}/callback", self._callback)
        r.add_patch("/api/v10/webhooks/{app}/{token}/messages/{mid}", self._webhook_edit)
        r.add_get("/api/v10/webhooks/{app}/{token}/messages/{mid}", self._webhook_get)
        r.add_delete("/api/v10/webhooks/{app}/{token}/messages/{mid}", self._webhook_delete)
        r.add_post("/api/v10/webhooks/{app}/{token}", self._followup)
        r.add_post("/api/v10/channels/{cid}/messages", self._channel_post)
        r.add_patch("/api/v10/channels/{cid}/messages/{mid}", self._channel_edit)
        r.add_delete("/api/v10/channels/{cid}/messages/{mid}", self._channel_delete)
        r.add_post("/api/v10/users/@me/channels", self._open_dm)
        r.add_get("/api/v10/users/{uid}", lambda _r: _json(MEMBER_USER))
        r.add_get("/api/v10/guilds/{gid}/members/{uid}", self._member)
        r.add_get("/cdn/{name}", self._cdn)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    # ---- test controls ------------------------------------------------------------------
    def fail_next(self, method: str, path_pattern: str, status: int = 429, headers: dict[str, str] | None = None,
                  times: int = 1, with_files: bool = False, retry_after: float = 0.05) -> None:
        """Answer the next matching request(s) with `status` (429: rate limited for `retry_after` seconds, said
        in the body and the Retry-After header, without Discord's `Via`: as Cloudflare answers) instead."""
        for _ in range(times):
            self.fail.append((method, re.compile(path_pattern), status, headers or {}, with_files, retry_after))

    def expire(self, token: str) -> None:
        self.tokens[token]["expired"] = True

    def upload(self, data: bytes, filename: str, content_type: str, declared_size: int | None = None
               ) -> dict[str, Any]:
        """Put a file on the fake CDN; returns its attachment object (`declared_size` may lie, as clients can)."""
        aid = self.snowflake()
        name = f"{aid}-{filename}"
        self.cdn[name] = data
        size = len(data) if declared_size is None else declared_size
        return {"id": str(aid), "filename": filename, "size": size, "content_type": content_type,
                "url": f"http://127.0.0.1:{self.port}/cdn/{name}",
                "proxy_url": f"http://127.0.0.1:{self.port}/cdn/{name}"}

    def add_member(self, user: dict[str, Any], guild_id: int = GUILD_ID) -> None:
        self.members.setdefault(guild_id, {})[int(user["id"])] = user

    def remove_member(self, user_id: int, guild_id: int = GUILD_ID) -> None:
        self.members.get(guild_id, {}).pop(user_id, None)

    async def add_guild(self, guild_id: int, roles: list[dict[str, Any]]) -> None:
        """The bot joins another server (GUILD_CREATE), with these roles besides @everyone."""
        self.guild_roles[guild_id] = roles
        self.members.setdefault(guild_id, {})
        await self.dispatch("GUILD_CREATE", self._guild(guild_id))

    def entitlement(self, user_id: int | None = USER_ID, sku_id: int = SKU_ID, *, ends_at: dt.datetime | None = None,
                    deleted: bool = False, kind: int = 8, entitlement_id: int | None = None,
                    guild_id: int | None = None) -> dict[str, Any]:
        """An entitlement object (type 8: an application subscription; 1: a one-time purchase); with `guild_id`
        and no `user_id`, a server's (a server subscription)."""
        found = {"id": str(entitlement_id or self.snowflake()), "sku_id": str(sku_id), "application_id": str(APP_ID),
                 "user_id": None if user_id is None else str(user_id), "type": kind, "deleted": deleted,
                 "consumed": False, "starts_at": TS, "ends_at": ends_at.isoformat() if ends_at else None}
        if guild_id is not None:
            found["guild_id"] = str(guild_id)
        return found

    async def entitlement_event(self, event: str, entitlement: dict[str, Any]) -> None:
        """ENTITLEMENT_CREATE, _UPDATE or _DELETE through the gateway; later interactions of that member carry
        their active entitlements, as Discord's do."""
        if event == "ENTITLEMENT_DELETE" or entitlement["deleted"]:
            self.entitlements.pop(entitlement["id"], None)
        else:
            self.entitlements[entitlement["id"]] = entitlement
        await self.dispatch(event, entitlement)

    def entitlements_of(self, user_id: str, guild_id: str | None = None) -> list[dict[str, Any]]:
        """The active entitlements an interaction lists: the member's, and the server's where the server's own
        install authorises it."""
        now = dt.datetime.now(dt.UTC)
        return [e for e in self.entitlements.values()
                if (e["user_id"] == user_id or (guild_id is not None and e["user_id"] is None
                                                and e.get("guild_id") == guild_id))
                and (e["ends_at"] is None or dt.datetime.fromisoformat(e["ends_at"]) > now)]

    def snowflake(self, when: dt.datetime | None = None) -> int:
        base = time_snowflake(when or dt.datetime.now(dt.UTC))
        return base + next(self._ids) % (1 << 22)

    def in_channel(self, channel_id: int, *, include_deleted: bool = False) -> list[Sent]:
        return [m for m in self.messages.values()
                if int(m.payload["channel_id"]) == channel_id and (include_deleted or not m.deleted)]

    def original(self, token: str) -> Sent | None:
        mid = self.tokens.get(token, {}).get("original")
        return self.messages.get(mid) if mid else None

    # ---- gateway ------------------------------------------------------------------------
    async def _gateway_info(self, _request: web.Request) -> web.Response:
        return _json({"url": f"ws://127.0.0.1:{self.port}/gateway", "shards": 1,
                                  "session_start_limit": {"total": 1000, "remaining": 1000,
                                                          "reset_after": 0, "max_concurrency": 1}})

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.ws = ws
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
        async for msg in ws:
            data = json.loads(msg.data)
            if data["op"] == 1:
                await ws.send_json({"op": 11})
            elif data["op"] == 2:
                self.identifies += 1
                await self.dispatch("READY", {
                    "v": 10, "user": BOT_USER, "session_id": "s1", "shard": [0, 1],
                    "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway",
                    "guilds": [{"id": str(g), "unavailable": True} for g in self.guild_roles],
                    "application": {"id": str(APP_ID), "flags": 0}})
                for gid in self.guild_roles:
                    await self.dispatch("GUILD_CREATE", self._guild(gid))
                self.connected.set()
            elif data["op"] == 6:
                self.resumes += 1
                await self.dispatch("RESUMED", {})
                self.connected.set()
        return ws

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        assert self.ws is not None
        self.seq += 1
        await self.ws.send_json({"op": 0, "t": event, "s": self.seq, "d": data})

    async def reconnect(self) -> None:
        """Ask the client to reconnect (op 7), as Discord does during maintenance; it resumes."""
        assert self.ws is not None
        self.connected.clear()
        await self.ws.send_json({"op": 7, "d": None})

    def _guild(self, guild_id: int = GUILD_ID) -> dict[str, Any]:
        everyone = role(guild_id, "@everyone", position=0)

        def text_channel(cid: int, name: str) -> dict[str, Any]:
            return {"id": str(cid), "type": 0, "name": name, "position": 0, "permission_overwrites": [],
                    "nsfw": False, "parent_id": None, "guild_id": str(guild_id)}

        channels = ([text_channel(CHANNEL_ID, "general"), text_channel(LOCKED_CHANNEL_ID, "announcements"),
                     text_channel(REVIEW_CHANNEL_ID, "review")] if guild_id == GUILD_ID
                    else [text_channel(guild_id + 1, "general")])
        name = "Test Guild" if guild_id == GUILD_ID else f"Guild {guild_id}"
        return {"id": str(guild_id), "name": name, "owner_id": "1", "icon": None, "splash": None,
                "discovery_splash": None, "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0,
                "default_message_notifications": 0, "explicit_content_filter": 0,
                "roles": [everyone, *self.guild_roles[guild_id]],
                "emojis": [], "stickers": [], "features": [], "mfa_level": 0, "system_channel_id": None,
                "system_channel_flags": 0, "rules_channel_id": None, "vanity_url_code": None,
                "description": None, "banner": None, "premium_tier": 0, "preferred_locale": "en-US",
                "public_updates_channel_id": None, "nsfw_level": 0, "premium_progress_bar_enabled": False,
                "unavailable": False, "member_count": 2, "large": False, "joined_at": TS,
                "channels": channels,
                "members": [{"user": BOT_USER, "roles": [], "joined_at": TS, "deaf": False, "mute": False,
                             "flags": 0}],
                "threads": [], "voice_states": [], "presences": [], "stage_instances": [],
                "guild_scheduled_events": [], "soundboard_sounds": []}

    # ---- interactions sent to the bot ---------------------------------------------------
    async def interact(self, kind: int, data: dict[str, Any], *, dm: bool = False, channel_id: int = CHANNEL_ID,
                       roles: tuple[int, ...] = (), permissions: int = MEMBER_PERMS,
                       app_permissions: int = ALL_PERMS, size_limit: int = 10 * 1024 * 1024,
                       created: dt.datetime | None = None, message: dict[str, Any] | None = None,
                       user: dict[str, Any] | None = None, guild_id: int = GUILD_ID,
                       thread_of: int | None = None, user_install: bool = False, group_dm: bool = False,
                       entitlements: list[dict[str, Any]] | None = None, locale: str = "en-US",
                       guild_locale: str = "en-US", nsfw: bool = False) -> str:
        """Send INTERACTION_CREATE through the gateway; returns the interaction token.

        `user` sends it (default Alice), in server `guild_id` (who thereby is a member there) or by DM;
        `thread_of`: `channel_id` is a public thread under that channel. `user_install`: authorised only by
        the member's own install (`authorizing_integration_owners` {"1": user}), as in a server the bot is not
        in; `group_dm`: used in a group DM (context 2, always a user install); `entitlements`: the member's;
        `locale`: the member's client language, `guild_locale` the server's (Discord locale names: `pt-BR`);
        `nsfw`: the server channel is age-restricted (the channel object's `nsfw`).
        """
        user = user or MEMBER_USER
        iid = self.snowflake(created)
        token = "itok-" + secrets.token_hex(8)
        where = GROUP_DM_ID if group_dm else DM_CHANNEL_ID if dm else channel_id
        self.tokens[token] = {"interaction_id": iid, "original": None, "expired": False, "channel_id": str(where)}
        # Both installs authorise it where both exist (the member's own install in a server that added the bot).
        in_server = not dm and not group_dm and guild_id in self.guild_roles
        owners = {"0": str(guild_id)} if in_server else {"0": "0"} if dm and not user_install else {}
        if user_install or group_dm:
            owners["1"] = user["id"]
            if not in_server and not dm:
                self.unreachable.add(where)  # the bot is no member there: only the interaction token reaches it
        elif not owners:
            owners["0"] = str(guild_id)
        payload: dict[str, Any] = {
            "id": str(iid), "application_id": str(APP_ID), "type": kind, "data": data, "token": token,
            "version": 1, "locale": locale, "attachment_size_limit": size_limit,
            "entitlements": self.entitlements_of(user["id"], str(guild_id) if owners.get("0") == str(guild_id)
                                                 else None) if entitlements is None else entitlements,
            "app_permissions": str(app_permissions),
            "authorizing_integration_owners": owners,
        }
        if group_dm:
            payload.update(channel_id=str(GROUP_DM_ID), user=user, context=2,
                           channel={"id": str(GROUP_DM_ID), "type": 3, "name": "friends", "icon": None,
                                    "owner_id": user["id"], "recipients": [user, person(USER_ID + 7, "Friend")]})
        elif dm:
            payload.update(channel_id=str(DM_CHANNEL_ID), user=user, context=1,
                           channel={"id": str(DM_CHANNEL_ID), "type": 1, "recipients": [user]})
        elif user_install and not in_server:
            # A server the bot is not in: Discord sends only a partial guild, and nobody is a member for the bot.
            payload.update(
                guild_id=str(guild_id), channel_id=str(channel_id), context=0, guild_locale=guild_locale,
                guild={"id": str(guild_id), "locale": "en-US", "features": []},
                channel={"id": str(channel_id), "type": 0, "guild_id": str(guild_id), "name": "general",
                         "position": 0, "nsfw": False, "permission_overwrites": [], "parent_id": None,
                         "permissions": str(permissions)},
                member={"user": user, "roles": [], "permissions": str(permissions), "joined_at": TS, "deaf": False,
                        "mute": False, "flags": 0, "nick": None, "avatar": None})
        else:
            self.add_member(user, guild_id)
            channel: dict[str, Any] = {"id": str(channel_id), "type": 0, "guild_id": str(guild_id), "name": "general",
                                       "position": 0, "nsfw": nsfw, "permission_overwrites": [], "parent_id": None,
                                       "permissions": str(permissions)}
            if thread_of is not None:
                channel = {"id": str(channel_id), "type": 11, "guild_id": str(guild_id), "name": "a thread",
                           "parent_id": str(thread_of), "owner_id": user["id"], "permissions": str(permissions),
                           "thread_metadata": {"archived": False, "auto_archive_duration": 60,
                                               "archive_timestamp": TS, "locked": False},
                           "member_count": 1, "message_count": 0, "flags": 0}
            payload.update(
                guild_id=str(guild_id), channel_id=str(channel_id), context=0, guild_locale=guild_locale,
                channel=channel,
                member={"user": user, "roles": [str(r) for r in roles], "permissions": str(permissions),
                        "joined_at": TS, "deaf": False, "mute": False, "flags": 0, "nick": None,
                        "avatar": None})
        if message is not None:
            payload["message"] = message
        await self.dispatch("INTERACTION_CREATE", payload)
        return token

    async def slash(self, name: str, options: dict[str, Any] | None = None,
                    files: dict[str, tuple[str, bytes, str]] | None = None, declared_size: int | None = None,
                    **kw: Any) -> str:
        """`/name` with options; `files` maps an attachment option to (filename, bytes, content type)."""
        opts: list[dict[str, Any]] = []
        resolved: dict[str, Any] = {}
        for key, value in (options or {}).items():
            kind = 5 if isinstance(value, bool) else 4 if isinstance(value, int) else \
                10 if isinstance(value, float) else 3
            opts.append({"name": key, "type": kind, "value": value})
        for key, (filename, data, ctype) in (files or {}).items():
            att = self.upload(data, filename, ctype, declared_size)
            resolved.setdefault("attachments", {})[att["id"]] = att
            opts.append({"name": key, "type": 11, "value": att["id"]})
        payload: dict[str, Any] = {"id": str(self._command_id(name)), "name": name, "type": 1, "options": opts}
        if resolved:
            payload["resolved"] = resolved
        return await self.interact(2, payload, **kw)

    async def autocomplete(self, name: str, focused: str, value: str, **kw: Any) -> str:
        opts = [{"name": focused, "type": 3, "value": value, "focused": True}]
        return await self.interact(4, {"id": str(self._command_id(name)), "name": name, "type": 1,
                                       "options": opts}, **kw)

    async def message_command(self, name: str, target: dict[str, Any], **kw: Any) -> str:
        return await self.interact(2, {"id": str(self._command_id(name)), "name": name, "type": 3,
                                       "target_id": target["id"], "resolved": {"messages": {target["id"]: target}}},
                                   **kw)

    async def press(self, message: Sent, custom_id: str, **kw: Any) -> str:
        return await self.interact(3, {"custom_id": custom_id, "component_type": 2}, message=message.payload, **kw)

    async def submit_modal(self, callback: dict[str, Any], values: dict[str, str],
                           files: list[tuple[str, bytes, str]], **kw: Any) -> str:
        """Fill in the modal the bot opened (text inputs in order, then the file upload) and submit it."""
        texts = iter(values.values())
        components: list[dict[str, Any]] = []
        resolved: dict[str, Any] = {"attachments": {}}
        for label in callback["data"]["components"]:
            inner = label["component"]
            if inner["type"] == 4:
                components.append({"type": 18, "component": {"type": 4, "custom_id": inner["custom_id"],
                                                             "value": next(texts, "")}})
            elif inner["type"] == 19:
                ids = []
                for filename, data, ctype in files:
                    att = self.upload(data, filename, ctype)
                    resolved["attachments"][att["id"]] = att
                    ids.append(att["id"])
                components.append({"type": 18, "component": {"type": 19, "custom_id": inner["custom_id"],
                                                             "values": ids}})
        return await self.interact(5, {"custom_id": callback["data"]["custom_id"], "components": components,
                                       "resolved": resolved}, **kw)

    def _command_id(self, name: str) -> int:
        for cmd in self.registered.get("global", []):
            if cmd["name"] == name:
                return int(cmd["id"])
        return 1

    # ---- REST ---------------------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path}")
        multipart = request.content_type.startswith("multipart/")
        self.timeline.append((time.monotonic(), f"{request.method} {request.path}", multipart))
        for i, (method, pattern, status, headers, with_files, retry_after) in enumerate(self.fail):
            if with_files and not multipart:
                continue
            if method == request.method and pattern.search(request.path):
                del self.fail[i]
                self.failed.append(f"{request.method} {request.path}")
                body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False} \
                    if status == 429 else {"message": "Missing Permissions", "code": 50013}
                return _json(body, status=status, headers={"Retry-After": f"{retry_after:g}", **headers})
        return await handler(request)  # type: ignore[no-any-return]

    async def _app_info(self, _request: web.Request) -> web.Response:
        return _json({"id": str(APP_ID), "name": "Reelsmith", "icon": None, "description": "",
                                  "rpc_origins": [], "bot_public": True, "bot_require_code_grant": False,
                                  "owner": MEMBER_USER, "summary": "", "verify_key": "00", "flags": 0,
                                  "team": None, "interactions_endpoint_url": None})

    async def _register(self, request: web.Request) -> web.Response:
        body = await request.json()
        scope = request.match_info.get("guild", "global")
        out = [{"description": "", **c, "id": str(self.snowflake()), "application_id": str(APP_ID), "version": "1"}
               for c in body]
        self.registered[scope] = out
        return _json(out)

    @staticmethod
    async def _body(request: web.Request) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            payload = json.loads(str(form["payload_json"]))
            files = [(f.filename, f.file.read()) for k, f in form.items()
                     if k.startswith("files[") and isinstance(f, web.FileField)]
            return payload, files
        if request.can_read_body:
            return dict(await request.json()), []
        return {}, []

    def _message(self, channel_id: str, payload: dict[str, Any], files: list[tuple[str, bytes]], via: str,
                 *, kind: int = 0, guild: bool = True) -> Sent:
        mid = self.snowflake()
        flags = int(payload.get("flags") or 0)
        msg = {"id": str(mid), "channel_id": channel_id, "author": BOT_USER, "content": payload.get("content") or "",
               "timestamp": TS, "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
               "mention_roles": [], "attachments": [], "embeds": [], "pinned": False, "type": kind, "flags": flags,
               "components": payload.get("components") or []}
        if guild and int(channel_id) not in (DM_CHANNEL_ID, GROUP_DM_ID):
            msg["guild_id"] = str(GUILD_ID)
        if via != "channel":
            msg["webhook_id"] = str(APP_ID)
        sent = Sent(msg, via=via, ephemeral=bool(flags & 64))
        self._apply(sent, payload, files)
        self.messages[mid] = sent
        return sent

    def _apply(self, sent: Sent, payload: dict[str, Any], files: list[tuple[str, bytes]]) -> None:
        for key in ("content", "components"):
            if key in payload and payload[key] is not None:
                sent.payload[key] = payload[key]
        if payload.get("content"):
            sent.history.append(payload["content"])
        if files or "attachments" in payload:
            sent.files = list(files)
            sent.payload["attachments"] = [
                {**self.upload(data, name, "application/octet-stream"), "size": len(data)} for name, data in files]

    def _token(self, token: str) -> dict[str, Any] | web.Response:
        info = self.tokens.get(token)
        if info is None or info["expired"]:
            return _json({"message": "Invalid Webhook Token", "code": 50027}, status=401)
        return info

    async def _callback(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        info = self.tokens[token]
        payload, files = await self._body(request)
        kind = payload["type"]
        self.callbacks.append({"token": token, "type": kind, "data": payload.get("data") or {}})
        body: dict[str, Any] = {"interaction": {"id": str(info["interaction_id"]), "type": 2}}
        if kind in (4, 5):
            data = payload.get("data") or {}
            sent = self._message(info["channel_id"], data, files, "interaction", kind=20)
            info["original"] = sent.id
            body["interaction"].update(response_message_id=str(sent.id), response_message_loading=kind == 5,
                                       response_message_ephemeral=sent.ephemeral)
            body["resource"] = {"type": kind, "message": sent.payload}
        else:
            body["resource"] = {"type": kind}
        return _json(body)

    def _resolve(self, token: str, mid: str) -> Sent | None:
        if mid == "@original":
            original = self.tokens[token]["original"]
            return self.messages.get(original) if original else None
        return self.messages.get(int(mid))

    async def _webhook_edit(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        info = self._token(token)
        if isinstance(info, web.Response):
            return info
        sent = self._resolve(token, request.match_info["mid"])
        if sent is None or sent.deleted:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        payload, files = await self._body(request)
        self._apply(sent, payload, files)
        sent.edits += 1
        return _json(sent.payload)

    async def _webhook_get(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        sent = self._resolve(token, request.match_info["mid"])
        if sent is None:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        return _json(sent.payload)

    async def _webhook_delete(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        info = self._token(token)
        if isinstance(info, web.Response):
            return info
        sent = self._resolve(token, request.match_info["mid"])
        if sent is not None:
            sent.deleted = True
        return web.Response(status=204)

    async def _followup(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        info = self._token(token)
        if isinstance(info, web.Response):
            return info
        payload, files = await self._body(request)
        original = self.original(token)
        channel = original.payload["channel_id"] if original else str(CHANNEL_ID)
        sent = self._message(channel, payload, files, "followup")
        return _json(sent.payload)

    async def _channel_post(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        if int(cid) == LOCKED_CHANNEL_ID:
            return _json({"message": "Missing Permissions", "code": 50013}, status=403)
        if int(cid) in self.unreachable:
            return _json({"message": "Missing Access", "code": 50001}, status=403)
        payload, files = await self._body(request)
        sent = self._message(cid, payload, files, "channel")
        return _json(sent.payload)

    async def _channel_edit(self, request: web.Request) -> web.Response:
        if int(request.match_info["cid"]) in self.unreachable:
            return _json({"message": "Missing Access", "code": 50001}, status=403)
        sent = self.messages.get(int(request.match_info["mid"]))
        if sent is None or sent.deleted:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        payload, files = await self._body(request)
        self._apply(sent, payload, files)
        sent.edits += 1
        return _json(sent.payload)

    async def _channel_delete(self, request: web.Request) -> web.Response:
        sent = self.messages.get(int(request.match_info["mid"]))
        if sent is None or sent.deleted:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        sent.deleted = True
        return web.Response(status=204)

    async def _member(self, request: web.Request) -> web.Response:
        user = self.members.get(int(request.match_info["gid"]), {}).get(int(request.match_info["uid"]))
        if user is None:
            return _json({"message": "Unknown Member", "code": 10007}, status=404)
        return _json({"user": user, "roles": [], "joined_at": TS, "deaf": False, "mute": False, "flags": 0,
                      "nick": None, "avatar": None})

    async def _open_dm(self, _request: web.Request) -> web.Response:
        return _json({"id": str(DM_CHANNEL_ID), "type": 1, "recipients": [MEMBER_USER],
                                  "last_message_id": None})

    async def _cdn(self, request: web.Request) -> web.Response:
        data = self.cdn.get(request.match_info["name"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="application/octet-stream")
