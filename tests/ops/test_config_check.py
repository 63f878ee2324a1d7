"""Start-up validation names the bad setting and says how to fix it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.ops.config_check import (
    ConfigError,
    check_or_exit,
    describe_validation_error,
    known_env_names,
    redact_url,
    redis_problem,
    static_problems,
    unknown_env_settings,
)
from core.queue.embedded_redis import EmbeddedRedis, _free_port
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_unknown_environment_setting_is_named_with_a_suggestion() -> None:
    [problem] = unknown_env_settings({"REELSMITH_WEB_PROT": "8081", "REELSMITH_WEB_PORT": "8080", "HOME": "/x"})
    assert problem.startswith("REELSMITH_WEB_PROT is not a Reelsmith setting")
    assert "Did you mean REELSMITH_WEB_PORT?" in problem


def test_every_setting_and_the_redis_alias_are_known() -> None:
    names = known_env_names()
    assert {"REELSMITH_WEB_PORT", "REELSMITH_HEALTH_PORT", "REDIS_URL", "REELSMITH_REDIS_URL"} <= names
    assert unknown_env_settings({n: "1" for n in names}) == []


def test_missing_token_for_a_requested_bot() -> None:
    settings = Settings(_env_file=None)
    [problem] = static_problems(settings, {}, bots=["telegram"])
    assert problem.startswith("REELSMITH_TELEGRAM_TOKEN is not set")
    assert static_problems(settings, {}, bots=["web"]) == []


def test_empty_token_is_refused_even_when_not_requested() -> None:
    settings = Settings(_env_file=None, discord_token="  ")
    [problem] = static_problems(settings, {})
    assert problem.startswith("REELSMITH_DISCORD_TOKEN is set but empty")


def test_missing_local_model_folder(tmp_path: Path) -> None:
    missing = tmp_path / "models" / "sdxl"
    settings = Settings(_env_file=None, image_model=str(missing), video_model="Lightricks/LTX-Video")
    [problem] = static_problems(settings, {}, loads_models=True)
    assert problem.startswith(f"REELSMITH_IMAGE_MODEL: {missing} does not exist")
    # Bots never load models, so they do not care.
    assert static_problems(settings, {}, loads_models=False) == []


def test_folder_without_model_index(tmp_path: Path, tiny_dir: Path) -> None:
    (tmp_path / "empty").mkdir()
    settings = Settings(_env_file=None, video_model=str(tmp_path / "empty"), image_model=str(tiny_dir / "image"))
    [problem] = static_problems(settings, {}, loads_models=True)
    assert problem.startswith("REELSMITH_VIDEO_MODEL:") and "model_index.json" in problem


def test_bad_redis_scheme_is_named_without_the_password() -> None:
    settings = Settings(_env_file=None, redis_url="http://:hunter2@redis:6379")
    [problem] = static_problems(settings, {})
    assert problem.startswith("REDIS_URL must start with redis://")
    assert "hunter2" not in problem


def test_unreachable_redis_fails_within_the_timeout() -> None:
    url = f"redis://:s3cret@127.0.0.1:{_free_port()}/0"
    problem = redis_problem(url, timeout_s=1.0)
    assert problem is not None and problem.startswith("REDIS_URL: cannot reach Redis at redis://:***@127.0.0.1:")
    assert "s3cret" not in problem


def test_reachable_redis_passes(redis_server: EmbeddedRedis) -> None:
    assert redis_problem(redis_server.url, timeout_s=2.0) is None
    check_or_exit(Settings(_env_file=None, redis_url=redis_server.url), {})


def test_wrong_password_is_reported_as_such(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "r", appendonly=False).start()
    try:
        import redis

        redis.Redis(port=server.port).config_set("requirepass", "right")
        problem = redis_problem(f"redis://:wrong@127.0.0.1:{server.port}/0", timeout_s=2.0)
        assert problem is not None and "refused the password" in problem and ":wrong@" not in problem
        no_password = redis_problem(server.url, timeout_s=2.0)
        assert no_password is not None and "needs a password" in no_password
    finally:
        server.stop()


def test_check_or_exit_collects_every_problem() -> None:
    settings = Settings(_env_file=None, image_model="/nowhere/model")
    with pytest.raises(ConfigError) as err:
        check_or_exit(settings, {"REELSMITH_NOPE": "1"}, bots=["discord"], loads_models=True)
    text = str(err.value)
    for name in ("REELSMITH_NOPE", "REELSMITH_DISCORD_TOKEN", "REELSMITH_IMAGE_MODEL"):
        assert name in text


def test_invalid_value_names_the_environment_variable() -> None:
    with pytest.raises(ValidationError) as err:
        Settings(_env_file=None, web_port="eighty", redis_url=123)  # type: ignore[arg-type]
    problems = describe_validation_error(err.value)
    assert any(p.startswith("REELSMITH_WEB_PORT:") for p in problems)
    assert any(p.startswith("REDIS_URL:") for p in problems)


def test_unknown_key_in_dotenv_is_named(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("REELSMITH_WEB_PORTT=1\n")
    with pytest.raises(ValidationError) as err:
        Settings(_env_file=env_file)  # type: ignore[call-arg]
    [problem] = describe_validation_error(err.value)
    assert problem.startswith("REELSMITH_WEB_PORTT is not a Reelsmith setting. Did you mean REELSMITH_WEB_PORT?")


def test_redact_url() -> None:
    assert redact_url("rediss://default:pw@redis.example:6380/0") == "rediss://default:***@redis.example:6380/0"
    assert redact_url("redis://localhost:6379/0") == "redis://localhost:6379/0"


def test_cli_fails_fast_naming_the_setting(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "REELSMITH_TELEGRAM_TOKN": "x", "REDIS_URL": "redis://127.0.0.1:1/0",
           "REELSMITH_STARTUP_REDIS_TIMEOUT_S": "0.2"}
    proc = subprocess.run([sys.executable, str(ROOT / "reelsmith.py"), "bot", "telegram"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "REELSMITH_TELEGRAM_TOKN is not a Reelsmith setting. Did you mean REELSMITH_TELEGRAM_TOKEN?" in proc.stderr
    assert "REELSMITH_TELEGRAM_TOKEN is not set" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_bad_models_file_stops_every_process(tmp_path: Path) -> None:
    models = tmp_path / "models.toml"
    models.write_text('[[model]]\nname = "clips"\nsource = "org/clips"\nfamily = "wan"\ntasks = ["text-to-image"]\n')
    for loads_models in (False, True):  # bots read the catalog too: they refuse before queueing by it
        [problem] = static_problems(Settings(_env_file=None, models_file=models), {}, loads_models=loads_models)
        assert problem.startswith("Model 'clips' (Wan 2.1 / 2.2, t2v checkpoint) cannot do text-to-image")


def test_a_worker_without_a_familys_package_stops_at_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.ops.config_check as config_check

    models = tmp_path / "models.toml"
    models.write_text('[[model]]\nname = "wan"\nsource = "org/wan"\nfamily = "wan"\n')
    real = config_check.importlib.util.find_spec
    monkeypatch.setattr(config_check.importlib.util, "find_spec", lambda name: None if name == "ftfy" else real(name))
    settings = Settings(_env_file=None, models_file=models)
    assert static_problems(settings, {}, loads_models=True) == [
        "Model wan (Wan 2.1 / 2.2) needs the Python package(s) ftfy: pip install ftfy."]
    assert static_problems(settings, {}, loads_models=False) == []  # bots never import the pipelines


def test_a_retired_setting_says_what_replaced_it() -> None:
    [problem] = unknown_env_settings({"REELSMITH_VIDEO_WATERMARK_SCALE": "64"})
    assert problem.startswith("REELSMITH_VIDEO_WATERMARK_SCALE is no longer a Reelsmith setting")
    assert "REELSMITH_VIDEO_WATERMARK_AMPLITUDE" in problem
