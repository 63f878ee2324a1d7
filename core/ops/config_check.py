"""Start-up checks that fail fast, naming the setting to fix.

pydantic already rejects bad values and unknown keys in `.env`; this adds what it cannot see:
unknown `REELSMITH_*` environment variables (a typo silently falls back to a default otherwise),
a missing or empty token for a bot that was asked for, a playground reachable from other machines without
a configured token, a local model folder that is not there, and a configured Redis that does not answer
within `startup_redis_timeout_s`.
"""

from __future__ import annotations

import difflib
import importlib.util
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
from pydantic import AliasChoices, ValidationError
from redis.exceptions import AuthenticationError, ResponseError

from core.ops.hosts import is_loopback, parse_host
from core.settings import Settings

PREFIX = "REELSMITH_"
REDIS_URL_NAME = "REDIS_URL"
TOKEN_HINTS = {
    "telegram": "the token @BotFather gave you",
    "discord": "the bot token from the Discord developer portal (Bot > Reset Token)",
}
REDIS_SCHEMES = ("redis", "rediss", "unix")
WEB_TOKEN_MIN_CHARS = 16
PLACEHOLDER_MARKS = ("replace-me", "change-me")
MAKE_TOKEN = "a long random secret, e.g. the output of `openssl rand -hex 32`"


class ConfigError(SystemExit):
    """Raised with every problem found; its text is the message to print."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Configuration error:\n" + "\n".join(f"  - {p}" for p in problems))


def env_name(field: str) -> str:
    """The environment variable that sets `field`."""
    return REDIS_URL_NAME if field == "redis_url" else PREFIX + field.upper()


def known_env_names() -> set[str]:
    names: set[str] = set()
    for field, info in Settings.model_fields.items():
        names.add(PREFIX + field.upper())
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(c.upper() for c in alias.choices if isinstance(c, str))
        elif isinstance(alias, str):
            names.add(alias.upper())
    return names


# Settings that were removed, with what replaced them: an owner's old env file gets the way forward.
RETIRED = {
    "REELSMITH_VIDEO_WATERMARK_SCALE": "clips now carry a static pattern set by REELSMITH_VIDEO_WATERMARK_AMPLITUDE "
                                       "and REELSMITH_VIDEO_WATERMARK_CELL; remove it (the defaults suit most)",
}


def _unknown(name: str, known: Iterable[str]) -> str:
    if name.upper() in RETIRED:
        return f"{name} is no longer a Reelsmith setting: {RETIRED[name.upper()]}."
    close = difflib.get_close_matches(name.upper(), list(known), n=1, cutoff=0.75)
    hint = f" Did you mean {close[0]}?" if close else " See deploy/.env.example for every setting."
    return f"{name} is not a Reelsmith setting.{hint}"


def unknown_env_settings(environ: Mapping[str, str]) -> list[str]:
    """A problem for each `REELSMITH_*` variable that no setting reads."""
    known = known_env_names()
    return [_unknown(k, known) for k in sorted(environ) if k.upper().startswith(PREFIX) and k.upper() not in known]


def describe_validation_error(exc: ValidationError) -> list[str]:
    """pydantic's errors, with the environment variable names an owner actually typed."""
    known = known_env_names()
    problems = []
    for err in exc.errors():
        loc = str(err["loc"][0]) if err["loc"] else "?"
        if err["type"] == "extra_forbidden" and loc.upper().startswith(PREFIX):
            problems.append(_unknown(loc.upper(), known) + " (found in .env)")
        elif err["type"] == "extra_forbidden":
            problems.append(f"{loc.upper()} (found in .env) is not a Reelsmith setting: .env may hold only "
                            "REELSMITH_* settings and REDIS_URL.")
        else:
            name = env_name(loc) if loc in Settings.model_fields else loc.upper()
            problems.append(f"{name}: {err['msg']} (got {str(err.get('input'))[:60]!r}).")
    return problems


def redact_url(url: str) -> str:
    """The URL with its password replaced, safe to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _model_problem(field: str, value: str | None) -> str | None:
    if not value:
        return None
    path = Path(value).expanduser()
    # Hub ids are "org/name"; anything else with slashes, or starting like a path, is a local folder.
    looks_local = value.startswith(("/", "./", "../", "~", ".")) or "\\" in value or value.count("/") > 1
    if not looks_local and not path.exists():
        return None
    if not path.exists():
        return (f"{env_name(field)}: {value} does not exist. Mount or download the model there, or use a "
                "hub id such as stabilityai/sdxl-turbo.")
    if not (path / "model_index.json").is_file():
        return (f"{env_name(field)}: {value} is not a diffusers model folder (no model_index.json). "
                "Point it at the folder that has model_index.json.")
    return None


def web_token_problem(settings: Settings) -> str | None:
    """What is wrong with a configured playground token (empty, short, the example's placeholder), if anything."""
    if settings.web_token is None:
        return None
    token = settings.web_token.get_secret_value().strip()
    name = env_name("web_token")
    if len(token) < WEB_TOKEN_MIN_CHARS or any(mark in token.lower() for mark in PLACEHOLDER_MARKS):
        return (f"{name} must be at least {WEB_TOKEN_MIN_CHARS} characters and not the example's placeholder: "
                f"set it to {MAKE_TOKEN}, or remove it to use the per-install secret.")
    return None


def web_public_hosts_problem(settings: Settings) -> str | None:
    """A problem for each public name that is not a plain `host` or `host:port`."""
    bad = [h for h in settings.web_public_hosts if parse_host(h) is None]
    if not bad:
        return None
    return (f"{env_name('web_public_hosts')}: {', '.join(repr(h) for h in bad)} is not a host name: give the name "
            'browsers use, without scheme or path, e.g. ["reelsmith.example.org"] or ["reelsmith.example.org:8443"].')


def web_bind_problem(settings: Settings, host: str | None = None) -> str | None:
    """A problem if the playground would listen beyond loopback without a configured token."""
    host = settings.web_host if host is None else host
    if is_loopback(host) or settings.web_token is not None:
        return None
    return (f"{env_name('web_host')} is {host!r}, which other machines can reach, but {env_name('web_token')} "
            f"is not set: set {env_name('web_token')} to {MAKE_TOKEN} (everyone who has it can moderate), "
            f"or set {env_name('web_host')}=127.0.0.1.")


def static_problems(settings: Settings, environ: Mapping[str, str], *, bots: Iterable[str] = (),
                    loads_models: bool = False) -> list[str]:
    """Everything that can be checked without the network. `bots`: adapters that will run ("web" included)."""
    problems = unknown_env_settings(environ)
    for platform in ("telegram", "discord"):
        token = getattr(settings, f"{platform}_token", None)
        name = env_name(f"{platform}_token")
        if token is not None and not token.get_secret_value().strip():
            problems.append(f"{name} is set but empty: put {TOKEN_HINTS[platform]} there, "
                            "or remove it to leave that bot off.")
        elif token is None and platform in bots:
            problems.append(f"{name} is not set, but the {platform} bot was asked for: set it to "
                            f"{TOKEN_HINTS[platform]}.")
    if "web" in bots:
        web = (web_bind_problem(settings), web_token_problem(settings), web_public_hosts_problem(settings))
        problems += [p for p in web if p]
    if settings.redis_url is not None:
        url = settings.redis_url.get_secret_value()
        scheme = urlsplit(url).scheme
        if scheme not in REDIS_SCHEMES:
            problems.append(f"{REDIS_URL_NAME} must start with redis://, rediss:// (TLS) or unix://; "
                            f"got {redact_url(url)!r}.")
    if loads_models:
        for field in ("image_model", "video_model"):
            problem = _model_problem(field, getattr(settings, field))
            if problem:
                problems.append(problem)
    problems += catalog_problems(settings, loads_models=loads_models)
    return problems


def catalog_problems(settings: Settings, *, loads_models: bool = False) -> list[str]:
    """What is wrong with the models and styles files; on a worker also the Python packages its families need
    (diffusers' Wan pipelines fail on every prompt without ftfy), so it stops at start-up instead of per job."""
    from core.errors import CatalogError
    from core.models.catalog import build_catalog
    from core.styles.catalog import StyleError, load_styles

    problems: list[str] = []
    try:
        catalog = build_catalog(settings)
    except CatalogError as exc:
        return [exc.message]
    try:
        load_styles(settings, models=set(catalog.entries))
    except StyleError as exc:
        problems.append(str(exc))
    if loads_models:
        for entry in catalog.entries.values():
            missing = [p for p in entry.spec.packages if importlib.util.find_spec(p) is None]
            if missing:
                problems.append(f"Model {entry.name} ({entry.spec.title}) needs the Python package(s) "
                                f"{', '.join(missing)}: pip install {' '.join(missing)}.")
    return problems


def redis_problem(url: str, timeout_s: float) -> str | None:
    """None if Redis answers PING within `timeout_s` (retrying while it starts), else what is wrong."""
    shown = redact_url(url)
    client = redis.Redis.from_url(url, socket_connect_timeout=min(2.0, timeout_s), socket_timeout=2.0)
    deadline = time.monotonic() + timeout_s
    last = ""
    try:
        while True:
            try:
                client.ping()
                return None
            except (AuthenticationError, ResponseError) as exc:
                if not isinstance(exc, AuthenticationError) and "NOAUTH" not in str(exc):
                    return f"{REDIS_URL_NAME}: Redis at {shown} answered with an error ({exc})."
                if urlsplit(url).password is None:
                    return (f"{REDIS_URL_NAME}: Redis at {shown} needs a password: "
                            "use redis://:PASSWORD@host:6379/0 (rediss:// for TLS).")
                return f"{REDIS_URL_NAME}: Redis at {shown} refused the password ({exc})."
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() >= deadline:
                return (f"{REDIS_URL_NAME}: cannot reach Redis at {shown} within {timeout_s:g} s ({last}). "
                        "Check host, port and password (rediss:// for TLS); "
                        f"{env_name('startup_redis_timeout_s')} waits longer.")
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    finally:
        client.close()


def check_or_exit(settings: Settings, environ: Mapping[str, str], *, bots: Iterable[str] = (),
                  loads_models: bool = False, check_redis: bool = True) -> None:
    """Raise `ConfigError` (a SystemExit with the message) if anything is wrong."""
    problems = static_problems(settings, environ, bots=bots, loads_models=loads_models)
    if not problems and check_redis and settings.redis_url is not None and not settings.redis_sentinels:
        problem = redis_problem(settings.redis_url.get_secret_value(), settings.startup_redis_timeout_s)
        if problem:
            problems.append(problem)
    if problems:
        raise ConfigError(problems)
