"""All configuration in one place: `REELSMITH_*` environment variables or a `.env` file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings. Build once at start-up and pass it down; nothing else reads the environment."""

    model_config = SettingsConfigDict(
        env_prefix="REELSMITH_", env_file=".env", env_file_encoding="utf-8", extra="forbid"
    )

    # --- infrastructure -------------------------------------------------------------------
    redis_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("REELSMITH_REDIS_URL", "REDIS_URL", "redis_url"),
        description="Redis to use; unset starts an embedded redis-server under data_dir.",
    )
    data_dir: Path = Field(default=Path(".reelsmith"), description="Embedded Redis data, tiny models.")
    queue_name: str = "reelsmith:queue"
    key_prefix: str = "reelsmith"

    # --- models ---------------------------------------------------------------------------
    image_model: str | None = Field(
        default=None, description="Local path or hub id of a text-to-image diffusers model (unset: tiny)."
    )
    video_model: str | None = Field(
        default=None, description="Local path or hub id of a text-to-video diffusers model (unset: tiny)."
    )
    tiny_models_dir: Path | None = Field(
        default=None, description="Where the tiny random-weight models live (default: data_dir/models/tiny)."
    )
    device: str = Field(default="auto", description="auto, cpu, cuda, cuda:1, mps ...")
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    model_name_in_caption: str | None = None

    # --- generation limits ----------------------------------------------------------------
    image_base_size: int | None = Field(
        default=None, description="Long side of generated images in px (default 1024, tiny: 64)."
    )
    video_base_size: int | None = Field(
        default=None, description="Long side of generated videos in px (default 768, tiny: 64)."
    )
    default_steps: int | None = Field(default=None, description="Default steps (default 25, tiny: 2).")
    max_steps: int = 60
    default_frames: int | None = Field(default=None, description="Default video frames (97; tiny: 9).")
    max_frames: int = 161
    video_fps: int = 24
    max_prompt_chars: int = 1000
    max_reference_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 4096 * 4096
    max_video_seconds: float = 60.0
    edit_strength: float = 0.6

    # --- queue and worker -----------------------------------------------------------------
    job_timeout_s: int = 600
    max_tries: int = 3
    worker_max_jobs: int = 2
    poll_delay_s: float = 0.05
    blob_ttl_s: int = 24 * 3600
    result_ttl_s: int = 7 * 24 * 3600
    progress_min_interval_s: float = 1.0

    # --- labelling ------------------------------------------------------------------------
    service_name: str = "Reelsmith"
    label_text: str = "AI-generated"

    # --- adapters -------------------------------------------------------------------------
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    telegram_token: SecretStr | None = None
    telegram_base_url: str | None = None
    telegram_base_file_url: str | None = None
    discord_token: SecretStr | None = None
    discord_api_base: str | None = None

    # --- who may moderate (shared by adapters and moderation) -----------------------------
    owner_ids: list[str] = Field(
        default_factory=list, description='Global owners as "platform:user_id", e.g. ["telegram:42"].'
    )
    moderator_ids: list[str] = Field(
        default_factory=list, description='Moderators everywhere, as "platform:user_id".'
    )
    discord_moderator_roles: list[str] = Field(
        default_factory=list, description="Discord role names or ids whose members moderate (besides Manage Server)."
    )
    telegram_review_chat_id: str | None = Field(default=None, description="Telegram chat that receives reports.")
    discord_review_channel_id: str | None = Field(default=None, description="Discord channel that receives reports.")

    # --- reliability ----------------------------------------------------------------------
    job_lease_s: float = Field(
        default=30.0, gt=0,
        description="A running job's claim, renewed while its worker lives; a dead worker's job reruns after this.",
    )
    job_keep_result_s: int = Field(default=60, ge=0, description="How long arq keeps a finished job's result.")

    def is_owner(self, platform: str, user_id: str) -> bool:
        return f"{platform}:{user_id}" in self.owner_ids

    def is_configured_moderator(self, platform: str, user_id: str) -> bool:
        return self.is_owner(platform, user_id) or f"{platform}:{user_id}" in self.moderator_ids

    def resolved_tiny_dir(self) -> Path:
        """Folder of the tiny random-weight model set."""
        return self.tiny_models_dir or (self.data_dir / "models" / "tiny")

    @property
    def uses_tiny_image(self) -> bool:
        return self.image_model is None

    @property
    def uses_tiny_video(self) -> bool:
        return self.video_model is None

    def image_size(self) -> int:
        return self.image_base_size or (64 if self.uses_tiny_image else 1024)

    def video_size(self) -> int:
        return self.video_base_size or (64 if self.uses_tiny_video else 768)

    def steps_default(self) -> int:
        return self.default_steps or (2 if self.uses_tiny_image else 25)

    def frames_default(self) -> int:
        return self.default_frames or (9 if self.uses_tiny_video else 97)

    def key(self, *parts: str) -> str:
        """A namespaced Redis key."""
        return ":".join((self.key_prefix, *parts))
