"""All configuration in one place: `REELSMITH_*` environment variables or a `.env` file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A Discord role by id, optionally bound to one server: "role_id" or "guild_id:role_id".
_ROLE_SPEC_RE = re.compile(r"^\d{1,20}(:\d{1,20})?$")
# What an image result is encoded as for one platform (core/labelling/output.py).
ResultImageFormat = Literal["png", "jpeg"]


def _role_specs(name: str, specs: list[str]) -> list[str]:
    bad = [s for s in specs if not _ROLE_SPEC_RE.match(s.strip())]
    if bad:
        raise ValueError(
            f"{name} takes Discord role ids (optionally guild_id:role_id), never role names: any server owner can "
            f"create a role with the same name. Not ids: {', '.join(repr(b) for b in bad[:5])}. Copy a role's id "
            "with Developer Mode on (Server Settings > Roles > right-click the role > Copy Role ID).")
    return [s.strip() for s in specs]


class QuotaTier(BaseModel):
    """A named quota tier; unset fields inherit the default tier's (`quota_credits` ...)."""

    model_config = {"extra": "forbid"}

    credits: int | None = Field(default=None, ge=0, description="Credits per window.")
    max_in_flight: int | None = Field(default=None, ge=1, description="Jobs queued or running at once.")
    cooldown_s: float | None = Field(default=None, ge=0, description="Least time between two jobs.")
    weight: float | None = Field(default=None, gt=0, description="Fair-queue share (2 = twice the default's).")


class CreditPack(BaseModel):
    """A pack of credits members can buy (Telegram Stars); bought credits never lapse with the window."""

    model_config = {"extra": "forbid"}

    credits: int = Field(gt=0, description="Credits the pack adds.")
    stars: int = Field(gt=0, le=10000, description="Its price in Telegram Stars (XTR).")
    title: str = Field(default="", max_length=32, description="Its name on the invoice (default: \"<n> credits\").")


class Settings(BaseSettings):
    """Service settings. Build once at start-up and pass it down; nothing else reads the environment."""

    model_config = SettingsConfigDict(
        env_prefix="REELSMITH_", env_file=".env", env_file_encoding="utf-8", extra="forbid"
    )

    # --- infrastructure -------------------------------------------------------------------
    redis_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("REELSMITH_REDIS_URL", "REDIS_URL", "redis_url"),
        description="Redis to use (rediss:// for TLS across networks); unset starts an embedded redis-server "
        "under REELSMITH_DATA_DIR.",
    )
    redis_sentinels: list[str] = Field(
        default=[], description='Redis Sentinel addresses ("host:port"), e.g. ["10.0.0.5:26379", "10.0.0.6:26379", '
        '"10.0.0.7:26379"]: bots, workers and the quota book follow the master they name through failovers. '
        "Set, it replaces redis_url's host (the URL may still give the password, database and rediss://).")
    redis_sentinel_master: str = Field(
        default="mymaster", description="The master's name in the sentinels' configuration (`sentinel monitor`).")
    redis_sentinel_password: SecretStr | None = Field(
        default=None, description="The sentinels' own password (`requirepass` in sentinel.conf), if they have one.")
    redis_password: SecretStr | None = Field(
        default=None, description="Redis's password when it is not in redis_url (always needed with sentinels "
        "if the master has `requirepass`).")
    redis_tls: bool = Field(
        default=False, description="TLS to Redis (and to the sentinels) without a rediss:// URL, e.g. with sentinels.")
    redis_tls_ca_file: Path | None = Field(
        default=None, description="CA bundle that signed Redis's certificate (managed Redis with a private CA).")
    redis_tls_cert_file: Path | None = Field(
        default=None, description="Client certificate for Redis servers that require one (mutual TLS).")
    redis_tls_key_file: Path | None = Field(default=None, description="The client certificate's private key.")
    redis_tls_check_hostname: bool = Field(
        default=True, description="Check that Redis's certificate names the host connected to.")
    redis_wait_replicas: int = Field(
        default=0, ge=0, description="Replicas that must hold an accepted job, a credit charge or refund, a run's "
        "fencing token and a posted reply before the service goes on (Redis WAIT), so a failover cannot lose them; "
        "bots deliver a reply only once that many replicas hold it. "
        "0: asynchronous replication (a failover may lose the last moment's writes).")
    redis_wait_timeout_ms: int = Field(
        default=1000, ge=1, description="How long one WAIT for replicas lasts; past it the write stands on the master "
        "alone (logged).")
    data_dir: Path = Field(
        default=Path(".reelsmith"), description="Embedded Redis data, the tiny models, the playground's per-install "
        "token.")
    queue_name: str = Field(
        default="reelsmith:queue", description="The arq queue (a Redis sorted set; KEDA scales workers on its size).")
    key_prefix: str = Field(
        default="reelsmith", description="Prefix of every other Redis key; change it and REELSMITH_QUEUE_NAME to "
        "run two independent installs on one Redis.")

    # --- media store (docs/media-storage.md) ------------------------------------------------
    media_store: Literal["filesystem", "s3"] = Field(
        default="filesystem", description="Where references and results are kept: filesystem (under "
        "REELSMITH_MEDIA_DIR; one host, or a shared volume) or s3 (any S3-API service: MinIO, AWS S3 ...). Redis "
        "keeps only their ids and metadata.")
    media_dir: Path | None = Field(
        default=None, description="Folder of the filesystem media store (default: REELSMITH_DATA_DIR/media); every "
        "bot and worker must see the same folder.")
    media_s3_bucket: str = Field(default="reelsmith-media", description="Bucket of the s3 media store.")
    media_s3_prefix: str = Field(
        default="media/", description="Key prefix of stored objects in the bucket (the lifecycle rule covers it).")
    media_s3_endpoint_url: str | None = Field(
        default=None, description="S3 API endpoint, e.g. http://minio:9000 (unset: AWS S3 for the region).")
    media_s3_region: str = Field(default="us-east-1", description="Region of the bucket.")
    media_s3_access_key_id: SecretStr | None = Field(
        default=None, description="Access key (unset: the default AWS credential chain: environment, profile, "
        "instance or pod role).")
    media_s3_secret_access_key: SecretStr | None = Field(default=None, description="Secret key of the access key.")
    media_s3_addressing_style: Literal["path", "virtual", "auto"] = Field(
        default="path", description="path (MinIO, emulators; works without wildcard DNS) or virtual (bucket in the "
        "host name).")
    media_s3_create_bucket: bool = Field(
        default=True, description="Create the bucket at first use when it does not exist.")
    media_s3_lifecycle: bool = Field(
        default=True, description="Set a backstop expiry rule on the prefix (a day past the longest TTL; other "
        "rules are kept). Objects are deleted on time by the sweeper either way.")
    media_presign_ttl_s: int = Field(
        default=0, ge=0, description="s3 store: the playground redirects browsers to a presigned URL valid this "
        "long instead of streaming media itself (the endpoint must be reachable from browsers). 0: stream.")
    media_sweep_interval_s: float = Field(
        default=60.0, gt=0, description="How often each worker deletes expired media from the store.")

    # --- models ---------------------------------------------------------------------------
    image_model: str | None = Field(
        default=None, description="Local path or hub id of a text-to-image diffusers model (unset: tiny)."
    )
    video_model: str | None = Field(
        default=None, description="Local path or hub id of a text-to-video diffusers model (unset: tiny)."
    )
    upscale_model: str | None = Field(
        default=None, description="Local path or hub id of an upscale diffusers model, e.g. "
        "stabilityai/stable-diffusion-x4-upscaler (unset: /upscale resizes and refines with the image model).")
    models_file: Path | None = Field(
        default=None, description="A TOML file of named models ([[model]] tables: name, source, family, kind, "
        "tasks, defaults, cost, tiers, scopes) and the default per task ([defaults]); see the models page of the docs.")
    tiny_models_dir: Path | None = Field(
        default=None, description="Where the tiny random-weight models live (default: REELSMITH_DATA_DIR/models/tiny)."
    )
    device: str = Field(default="auto", description="auto (CUDA if present), cpu, cuda, cuda:1, mps ...")
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        default="auto", description="Weights and activations dtype; auto: bfloat16 on CUDA, float32 elsewhere.")
    model_name_in_caption: str | None = Field(
        default=None, description="Model name shown in captions (default: the last part of the model path or id).")

    # --- styles and LoRAs -------------------------------------------------------------------
    styles_file: Path | None = Field(
        default=None, description="TOML file of owner styles ([[style]] tables: name, template with {prompt}, "
        "negative, model, loras, aspect); unset: no owner styles.")
    loras_dir: Path | None = Field(
        default=None, description="Folder of LoRA files (<name>.safetensors), named by file stem only "
        "(default: REELSMITH_DATA_DIR/loras).")
    max_chat_styles: int = Field(default=25, ge=0, description="Most styles a chat's moderators may add.")
    max_style_template_chars: int = Field(
        default=300, ge=10, description="Longest style template or negative prompt, in characters.")

    # --- generation limits ----------------------------------------------------------------
    image_base_size: int | None = Field(
        default=None, description="Long side of generated images in px (default 1024, tiny: 64)."
    )
    video_base_size: int | None = Field(
        default=None, description="Long side of generated videos in px (default 768, tiny: 64)."
    )
    default_steps: int | None = Field(default=None, description="Default steps (default 25, tiny: 2).")
    max_steps: int = Field(default=60, description="Most denoising steps a member may ask for (--steps).")
    default_frames: int | None = Field(default=None, description="Default video frames (97; tiny: 9).")
    max_frames: int = Field(
        default=161, description="Most frames of a generated video (--frames, --duration, --fit-audio).")
    video_fps: int = Field(default=24, description="Frame rate of generated videos; --duration counts in it.")
    extend_s: float = Field(
        default=2.0, gt=0, le=30, description="Seconds the Extend button adds to a video result (rounded to whole "
        "steps of 8 frames; the whole clip stays within max_frames).")
    max_prompt_chars: int = Field(default=1000, description="Longest prompt accepted, in characters.")
    max_reference_bytes: int = Field(
        default=20 * 1024 * 1024, description="Largest attachment accepted (bytes), checked before it is stored.")
    max_image_pixels: int = Field(
        default=4096 * 4096, description="Largest image accepted (pixels), read from its header before decoding.")
    max_video_seconds: float = Field(default=60.0, description="Longest video reference accepted (seconds).")
    edit_strength: float = Field(
        default=0.6, description="/edit (image to image): how far the result may move from the original (0-1).")
    upscale_max_side: int | None = Field(
        default=None, gt=0, description="Longest side of an /upscale result in px; a bigger scale is capped to it "
        "(default 2048, tiny image model and no upscale model: 256).")
    upscale_strength: float = Field(
        default=0.3, gt=0, le=1, description="/upscale without an upscale model: how far the image model's "
        "refining pass may move from the resized original (0-1; low keeps the picture).")

    # --- queue and worker -----------------------------------------------------------------
    job_timeout_s: int = Field(
        default=600, description="A job running longer is stopped at its next step, answered and not charged.")
    max_tries: int = Field(
        default=3, description="Tries of a failing or killed job before its member gets a failure reply.")
    worker_max_jobs: int = Field(
        default=4, description="Jobs one worker holds at once (they share its accelerator thread and form "
        "batches).")
    poll_delay_s: float = Field(
        default=1.0, gt=0, description="Fallback queue poll; enqueues wake idle workers at once (pub/sub).")
    blob_ttl_s: int = Field(default=24 * 3600, description="How long members' attachments are kept (seconds).")
    media_user_bytes: int = Field(
        default=100_000_000, ge=0,
        description="Bytes of attachments one member may have stored at once (each counts until it expires, "
        "REELSMITH_BLOB_TTL_S); a request over it is refused before anything is stored or charged. 0: no cap. "
        "Counted from metadata in Redis; the bytes live in the media store (REELSMITH_MEDIA_STORE).")
    result_ttl_s: int = Field(
        default=7 * 24 * 3600, description="How long results, job records and reply state (buttons, delivery "
        "markers) are kept (seconds).")
    progress_min_interval_s: float = Field(
        default=1.0, description="Least time between two progress updates a worker publishes for one job.")

    # --- labelling and provenance --------------------------------------------------------
    service_name: str = Field(
        default="Reelsmith", description="Name in captions, badge, metadata and C2PA manifests; /verify matches it.")
    label_text: str = Field(default="AI-generated", description="The label that starts every caption.")

    # --- playground -----------------------------------------------------------------------
    web_host: str = Field(
        default="127.0.0.1", description="Where the playground listens; beyond loopback it needs REELSMITH_WEB_TOKEN.")
    web_port: int = Field(default=8080, description="Port of the playground.")
    web_token: SecretStr | None = Field(
        default=None, description="The playground's access token (Bearer, sign-in form); unset: a per-install "
        "secret in REELSMITH_DATA_DIR/web_token. Required to bind REELSMITH_WEB_HOST beyond loopback.")
    web_public_hosts: list[str] = Field(
        default_factory=list, description='Names the playground answers to besides 127.0.0.1, localhost and [::1], '
        'e.g. ["reelsmith.example.org"] behind a proxy ("name:port" pins the port).')
    web_link_ttl_s: float = Field(
        default=900.0, gt=0, description="How long the one-time sign-in link printed at start-up works.")
    web_session_ttl_s: int = Field(
        default=30 * 24 * 3600, gt=0, description="How long a browser stays signed in to the playground.")

    # --- telegram ---------------------------------------------------------------------------
    telegram_token: SecretStr | None = Field(
        default=None, description="Token from @BotFather; set, `reelsmith run` starts the Telegram bot.")
    telegram_base_url: str | None = Field(
        default=None, description="Bot API endpoint of a self-hosted telegram-bot-api server (unset: "
        "api.telegram.org).")
    telegram_base_file_url: str | None = Field(
        default=None, description="File download endpoint of that server (unset: api.telegram.org).")

    telegram_inline_storage_chat_id: int | None = Field(
        default=None, description="Chat (e.g. a private channel the bot posts in) where inline-mode results are "
        "uploaded to get the file_id Telegram requires to edit an inline message; unset: the member's private chat "
        "with the bot (they get a copy there).")
    telegram_inline_recent: int = Field(
        default=8, ge=0, le=49, description="How many of a member's recent results inline mode offers as cached "
        "results (0: none).")

    # --- payments (Telegram Stars) --------------------------------------------------------
    credit_packs: dict[str, CreditPack] = Field(
        default_factory=dict, description='Credit packs /buy offers, by id, e.g. {"small": {"credits": 50, '
        '"stars": 25}}; none: /buy says purchases are off.')
    credit_offer_ttl_s: int = Field(
        default=24 * 3600, gt=0, description="How long a /buy invoice can be paid; older ones are declined at "
        "checkout.")
    stars_reconcile_count: int = Field(
        default=100, ge=0, le=100, description="Star transactions the Telegram bot checks at start-up "
        "(getStarTransactions) for payments whose update was lost, e.g. in a crash; 0: none.")

    # --- discord --------------------------------------------------------------------------
    discord_token: SecretStr | None = Field(
        default=None, description="Bot token from the Developer Portal; set, `reelsmith run` starts the Discord "
        "bot. Also the key that seals stored interaction tokens.")
    discord_api_base: str | None = Field(
        default=None, description="Discord REST API base, e.g. a proxy (unset: discord.com); the gateway is "
        "then asked of it too.")

    # --- who may moderate (shared by adapters and moderation) -----------------------------
    owner_ids: list[str] = Field(
        default_factory=list, description='Global owners as "platform:user_id", e.g. ["telegram:42"].'
    )
    moderator_ids: list[str] = Field(
        default_factory=list, description='Moderators everywhere, as "platform:user_id".'
    )
    discord_moderator_roles: list[str] = Field(
        default_factory=list, description='Discord role ids ("role_id" or "guild_id:role_id", never names) whose '
        "members moderate their server (besides Manage Server).",
    )
    telegram_review_chat_id: str | None = Field(default=None, description="Telegram chat that receives reports.")
    discord_review_channel_id: str | None = Field(default=None, description="Discord channel that receives reports.")

    # --- moderation -----------------------------------------------------------------------
    web_review_chat_id: str = Field(default="review", description="Playground chat that receives reports.")
    review_language: str = Field(
        default="", description="Language of the notices and buttons the review chats get (a shipped language: de, "
        "ja, pt-BR ...; empty: English). Answers to the buttons follow the moderator who presses them.")
    audit_max_len: int = Field(default=10000, description="Entries kept in the global audit stream.")
    audit_chat_max_len: int = Field(default=1000, description="Entries kept in each chat's audit stream.")
    protected_list_file: Path | None = Field(
        default=None, description="Protected names list, one per line with [section] headers (default: the shipped "
        "core/moderation/data/protected.txt)."
    )
    blocklist_max_entries: int = Field(default=500, description="Most blocklist entries one chat may add.")
    avatar_pending_ttl_s: int = Field(default=7 * 24 * 3600, description="How long a submitted selfie awaits review.")
    consent_face_distance: float = Field(
        default=0.6, gt=0, le=2, description="Largest face-embedding distance counted as the same person (dlib's "
        "ResNet model: 0.6 is its usual threshold; lower is stricter).")
    consent_min_face_fraction: float = Field(
        default=0.05, gt=0, le=1, description="Smallest face the consent check looks for, as a share of a "
        "picture's short side (upright faces; turned ones from 12.5%). Smaller costs more CPU per frame.")
    consent_video_frames: int = Field(
        default=16, ge=1, description="Frames of a video reference checked for faces, spread over the whole clip.")
    consent_max_frames: int = Field(
        default=32, ge=1, description="Most distinct frames of one animated image checked for faces (more are "
        "sampled evenly); near-identical frames count once.")

    # --- worker performance -----------------------------------------------------------------
    batch_max_size: int = Field(default=4, ge=1, description="Most compatible jobs run as one pipeline call.")
    batch_window_s: float = Field(
        default=0.0, ge=0, description="How long an idle worker waits for more compatible jobs (0: batches "
        "form only from jobs queued while the accelerator is busy).")
    torch_compile: bool = Field(default=False, description="torch.compile the denoiser (GPU; slow first job).")
    vae_tiling: bool = Field(default=False, description="Decode large images/videos in tiles (less VRAM).")
    vae_slicing: bool = Field(default=False, description="Decode batches one item at a time (less VRAM).")
    cpu_offload: Literal["none", "model", "sequential"] = Field(
        default="none", description="Offload idle sub-models to CPU (model) or every layer (sequential).")
    worker_families: list[Literal["image", "video"]] = Field(
        default=["image", "video"],
        description='Model families this worker keeps warm and takes jobs for, e.g. ["video"] on a big GPU.')
    button_press_window_s: int = Field(
        default=10, ge=1, description="A second press of the same button by the same member within this long (a "
        "double click, a retried callback, a redelivered interaction) runs nothing and charges nothing.")
    worker_models: list[str] = Field(
        default_factory=list, description='Catalog models this worker keeps warm and takes jobs for, e.g. '
        '["wan-i2v"] (empty: those of REELSMITH_WORKER_FAMILIES).')
    worker_max_models: int = Field(
        default=0, ge=0, description="Most models one worker keeps loaded; the least recently used is evicted "
        "before another loads (0: no limit).")
    worker_memory_gb: float = Field(
        default=0.0, ge=0, description="Weight memory one worker's loaded models may take (GiB); the least recently "
        "used is evicted before another loads past it (0: no limit).")
    route_grace_s: float = Field(
        default=30.0, ge=0, description="A job no worker of its family has taken after this long is taken by any "
        "worker (which then loads the model: a counted switch).")

    # --- quotas and fair queueing ---------------------------------------------------------
    quota_enabled: bool = Field(default=True, description="Charge credits and cap jobs in flight (false: only fair "
                               "queue ordering applies).")
    quota_costs: dict[str, int] = Field(
        default_factory=lambda: {"image": 1, "edit": 1, "video": 5, "animate": 5, "upscale": 1,
                                 "extend": 5},
        description="Credits per job kind at the base size/length; bigger sizes and longer clips multiply it.",
    )
    quota_cost_pixels: int = Field(
        default=1024 * 1024, gt=0, description="Each started multiple of this many output pixels costs the base again."
    )
    quota_cost_frames: int = Field(
        default=97, gt=0, description="Each started multiple of this many video frames costs the base again."
    )
    quota_cost_steps: int | None = Field(
        default=None, gt=0, description="Each started multiple of this many denoising steps costs the base again "
        "(default: the default steps, 25; tiny models: 2)."
    )
    quota_window_s: int = Field(default=24 * 3600, gt=0, description="Rolling window credits are counted over.")
    quota_credits: int = Field(default=30, ge=0, description="Default tier: credits per window.")
    quota_max_in_flight: int = Field(default=2, ge=1, description="Default tier: jobs queued or running at once.")
    quota_cooldown_s: float = Field(default=0.0, ge=0, description="Default tier: least time between two jobs.")
    quota_tiers: dict[str, QuotaTier] = Field(
        default_factory=dict, description='Named tiers, e.g. {"supporter": {"credits": 100, "weight": 2}}.'
    )
    quota_tier_roles: dict[str, str] = Field(
        default_factory=dict,
        description='Discord role id ("role_id" or "guild_id:role_id", never a name) -> tier name.',
    )
    quota_tier_users: dict[str, str] = Field(
        default_factory=dict, description='"platform:user_id" -> tier name.'
    )
    discord_sku_tiers: dict[str, str] = Field(
        default_factory=dict, description='Discord SKU id (Developer Portal, Monetization) -> tier name: a member '
        "with an active entitlement to the SKU (a subscription or a one-time purchase) gets that tier; refusals for "
        "lack of credits offer it with a premium button.",
    )
    quota_moderator_tier: str | None = Field(
        default=None, description="Tier for the configured REELSMITH_MODERATOR_IDS / REELSMITH_OWNER_IDS (not for "
        "chat admins: anyone can make a chat and be its admin); unset: none.",
    )
    quota_chat_credits: int | None = Field(
        default=None, ge=0, description="Credits per window for a whole chat/server (all members); unset: no cap."
    )
    quota_in_flight_expiry_s: int = Field(
        default=6 * 3600, gt=0, description="A job that never reports back stops counting as in flight after this."
    )
    relax_lane_allowed: bool = Field(
        default=True, description="Whether chats may turn on the relax lane (/mod relax on): members out of "
        "credits there are queued at no charge, one job each, and run only while no other job waits.")
    relax_lane_default: bool = Field(
        default=False, description="The relax lane in chats whose moderators have not chosen (/mod relax on|off).")
    relax_weight: float = Field(
        default=0.05, gt=0, description="Fair-queue share among relax-lane jobs (they run after every other "
        "tier's jobs in any case).")
    relax_job_ttl_s: int = Field(
        default=6 * 24 * 3600, gt=0, description="How long a relax-lane job may wait for idle GPUs; then its queue "
        "entry expires and its member is told (keep it below REELSMITH_RESULT_TTL_S, which keeps the job record).")
    fair_queueing: bool = Field(
        default=True, description="Order the queue by per-user virtual time (fair share) instead of arrival."
    )
    fair_tag_ttl_s: int = Field(
        default=7 * 24 * 3600, gt=0, description="A member's fair-queue finish tag is forgotten this long after "
        "their last job was queued (it only matters while their jobs wait).")

    # --- ops: health, metrics, logs, start-up checks --------------------------------------
    health_host: str = Field(
        default="127.0.0.1", description="Where every process serves /healthz, /livez and /metrics; 0.0.0.0 lets "
        "probes and scrapers from other hosts in."
    )
    health_port: int = Field(default=9464, description="Port of that health server; 0 turns it off.")
    worker_name: str | None = Field(
        default=None, description="This worker's name in logs, metrics and job records (default: host-pid)."
    )
    log_format: Literal["text", "json"] = Field(default="text", description="json: one JSON object per line.")
    startup_redis_timeout_s: float = Field(
        default=10.0, description="How long start-up waits for a configured Redis before giving up."
    )

    # --- telegram ---------------------------------------------------------------------------
    telegram_consumer_name: str = Field(
        default="telegram-1", description="Reply-stream consumer name of the Telegram bot (one bot process per token)."
    )
    telegram_poll_timeout_s: int = Field(default=30, description="getUpdates long-poll timeout.")
    telegram_max_download_bytes: int = Field(
        default=20 * 1024 * 1024, description="Largest attachment the bot downloads (Bot API getFile limit: 20 MB)."
    )
    telegram_max_upload_bytes: int = Field(
        default=50 * 1024 * 1024, description="Largest video/document the bot uploads (Bot API limit: 50 MB)."
    )
    telegram_max_photo_bytes: int = Field(
        default=10 * 1024 * 1024, description="Largest photo the bot uploads (Bot API limit: 10 MB)."
    )
    telegram_edit_interval_s: float = Field(
        default=1.0, description="Least time between status edits in one private chat (Telegram: ~1 msg/s per chat)."
    )
    telegram_group_edit_interval_s: float = Field(
        default=3.0, description="Least time between status edits in one group (Telegram: 20 msgs/min per group)."
    )
    telegram_album_window_s: float = Field(
        default=1.0, ge=0.0,
        description="How long the bot waits for the rest of an album (items sent together) after its latest item.",
    )
    telegram_admin_cache_s: float = Field(default=60.0, description="How long a chat administrator check is cached.")
    telegram_send_attempts: int = Field(default=5, description="Tries per message on 429s and network errors.")
    telegram_max_retry_after_s: float = Field(
        default=60.0, description="Longest 429 retry_after waited in place; longer ones retry via the reply stream."
    )

    # --- discord --------------------------------------------------------------------------
    discord_grid: bool = Field(
        default=False, description="Several images of one prompt as one numbered 2x2 grid image (each cell keeps its "
        "label), instead of one attachment per image.")
    discord_sync_commands: bool = Field(default=True, description="Register slash commands with Discord at start-up.")
    discord_guild_ids: list[str] = Field(
        default_factory=list, description="Also register commands in these guilds (instant; global ones take a while)."
    )
    discord_token_ttl_s: int = Field(
        default=14 * 60, ge=0, le=14 * 60 + 30,
        description="How long an interaction token is used (Discord allows 15 min); then channel messages.",
    )
    discord_edit_interval_s: float = Field(default=1.5, description="Least time between two status edits of a job.")
    discord_default_upload_limit: int = Field(
        default=10 * 1024 * 1024, description="Upload limit when an interaction does not say (bytes)."
    )
    discord_attachment_hosts: list[str] = Field(
        default_factory=lambda: ["cdn.discordapp.com", "media.discordapp.net"],
        description="Hosts the bot downloads attachments from (Discord's CDN).",
    )
    discord_download_timeout_s: float = Field(
        default=30.0, description="Time limit for downloading one attachment from Discord's CDN (seconds).")

    # --- media: references, audio, memes, output formats ---------------------------------
    max_image_refs: int = Field(default=9, description="Image references per request (Seedance 2.0 takes 9).")
    max_video_refs: int = Field(default=3, description="Video references per request.")
    max_audio_refs: int = Field(default=3, description="Audio references per request.")
    max_audio_seconds: float = Field(default=60.0, description="Longest audio reference accepted.")
    restyle_strength: float = Field(
        default=0.7, description="Video-to-video: how far the result may move from the reference clip (0-1)."
    )
    audio_bitrate: int = Field(default=128_000, description="AAC bitrate of the soundtrack in MP4 outputs.")
    gif_platforms: list[str] = Field(
        default_factory=list,
        description='Platforms that get short silent clips as GIF unless the member asks --format mp4, '
        'e.g. ["telegram"].',
    )
    gif_max_frames: int = Field(default=49, description="Longest clip sent as GIF when a platform prefers GIF.")
    meme_max_side: int = Field(default=720, description="Long side (px) a member's picture or clip is shrunk to "
                               "before /meme captions it.")
    max_video_frames: int = Field(
        default=3600, gt=0, description="Most frames a video reference or /verify upload may have (counted from its "
        "packets, before any frame is decoded).")
    # Members' files are read in helper processes under these limits (core/media/sandbox.py): a file that breaks
    # one is refused with what to change, and costs at most that helper.
    media_memory_mb: int = Field(
        default=1024, ge=64, description="Memory (MB of address space) a helper that reads members' files may use "
        "beyond its start-up footprint.")
    media_cpu_s: int = Field(default=30, ge=1, description="CPU seconds reading one member's file may take.")
    media_timeout_s: float = Field(
        default=30.0, gt=0, description="Wall-clock seconds reading one member's file may take; then its helper is "
        "killed.")
    media_workers: int = Field(
        default=2, ge=1, description="Helper processes reading members' files at once, per service or worker process.")

    # --- labelling and provenance --------------------------------------------------------
    badge_enabled: bool = Field(default=True, description="Draw the visible AI badge on images and video frames.")
    badge_text: str | None = Field(default=None, description='Badge text (default "AI · " and REELSMITH_SERVICE_NAME).')
    badge_corner: Literal["bottom-right", "bottom-left", "top-right", "top-left"] = Field(
        default="bottom-right", description="Corner the badge is drawn in.")
    badge_scale: float = Field(default=0.045, gt=0, le=0.3, description="Badge text height / short side.")
    video_label_card_s: float = Field(default=0.0, ge=0, le=5, description="Opening label card length (0: none).")
    watermark_enabled: bool = Field(default=True, description="Embed the invisible job watermark (>=256x256).")
    watermark_scale: float = Field(default=48.0, gt=0, description="Image watermark strength (quantisation step).")
    video_watermark_amplitude: float = Field(
        default=3.5, gt=0, le=16, description="Video watermark strength: luma levels of its static pattern "
        "(3.5: PSNR about 39 dB; survives CRF 28, 0.5x + CRF 28, 360p and trims).")
    video_watermark_cell: int = Field(
        default=8, ge=4, le=64, description="Video watermark cell size in pixels at the generation size "
        "(larger: sturdier to downscaling, fewer cells per bit).")
    watermark_device: str = Field(
        default="numpy", pattern=r"^(numpy|cpu|cuda(:\d+)?)$",
        description="Where the invisible watermark is computed: numpy (CPU), or a torch device (cuda, cuda:1, "
        "cpu): the same bits either way; on a GPU worker cuda leaves the CPU to the encoders.")
    result_image_formats: dict[str, ResultImageFormat] = Field(
        default_factory=lambda: dict[str, ResultImageFormat](telegram="jpeg"),
        description='Image result format per platform (others: PNG), chosen once in the worker; e.g. '
        '{"telegram": "jpeg"}: Telegram turns photos into JPEG anyway, so it gets one, XMP label inside.')
    png_compress_level: int = Field(default=1, ge=0, le=9, description="zlib level of PNG results "
                                    "(1: several times faster than 6 for about a sixth more bytes).")
    jpeg_quality: int = Field(default=92, ge=50, le=100, description="Quality of JPEG image results.")
    provenance_retention_s: int = Field(default=180 * 24 * 3600, gt=0, description="How long job records live.")
    c2pa_cert_path: Path | None = Field(default=None, description="PEM certificate chain (leaf first) for C2PA.")
    c2pa_key_path: Path | None = Field(default=None, description="PEM private key for C2PA signing.")
    c2pa_alg: Literal["es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519"] = Field(
        default="es256", description="C2PA signing algorithm; it must match the key.")
    c2pa_tsa_url: str | None = Field(default=None, description="RFC 3161 timestamp authority (unset: none).")
    verify_max_video_frames: int = Field(default=12, gt=0, description="Frames /verify reads from a video.")

    # --- reliability ----------------------------------------------------------------------
    job_lease_s: float = Field(
        default=30.0, gt=0,
        description="A running job's claim, renewed while its worker lives; a dead worker's job reruns after this.",
    )
    job_keep_result_s: int = Field(
        default=60, ge=0, description="How long arq keeps a finished job's result (replies are kept separately, "
        "REELSMITH_RESULT_TTL_S).")

    @field_validator("discord_moderator_roles")
    @classmethod
    def _moderator_roles_are_ids(cls, value: list[str]) -> list[str]:
        return _role_specs("REELSMITH_DISCORD_MODERATOR_ROLES", value)

    @field_validator("quota_tier_roles")
    @classmethod
    def _tier_roles_are_ids(cls, value: dict[str, str]) -> dict[str, str]:
        keys = _role_specs("REELSMITH_QUOTA_TIER_ROLES", list(value))
        return dict(zip(keys, value.values(), strict=True))

    def is_owner(self, platform: str, user_id: str) -> bool:
        return f"{platform}:{user_id}" in self.owner_ids

    def is_configured_moderator(self, platform: str, user_id: str) -> bool:
        return self.is_owner(platform, user_id) or f"{platform}:{user_id}" in self.moderator_ids

    def resolved_tiny_dir(self) -> Path:
        """Folder of the tiny random-weight model set."""
        return self.tiny_models_dir or (self.data_dir / "models" / "tiny")

    def resolved_media_dir(self) -> Path:
        """Folder of the filesystem media store."""
        return self.media_dir or (self.data_dir / "media")

    def resolved_loras_dir(self) -> Path:
        """Folder of the LoRA files styles name."""
        return self.loras_dir or (self.data_dir / "loras")

    @property
    def uses_tiny_image(self) -> bool:
        return self.image_model is None

    @property
    def uses_tiny_video(self) -> bool:
        return self.video_model is None

    def image_size(self) -> int:
        return self.image_base_size or (64 if self.uses_tiny_image else 1024)

    def upscale_side(self) -> int:
        """The longest side an /upscale result may have."""
        tiny = self.uses_tiny_image and self.upscale_model is None
        return self.upscale_max_side or (256 if tiny else 2048)

    def video_size(self) -> int:
        return self.video_base_size or (64 if self.uses_tiny_video else 768)

    def steps_default(self) -> int:
        return self.default_steps or (2 if self.uses_tiny_image else 25)

    def cost_steps(self) -> int:
        """Steps one base cost pays for: `quota_cost_steps`, or the default steps (so defaults cost the base)."""
        return self.quota_cost_steps or self.steps_default()

    def frames_default(self) -> int:
        return self.default_frames or (9 if self.uses_tiny_video else 97)

    def key(self, *parts: str) -> str:
        """A namespaced Redis key."""
        return ":".join((self.key_prefix, *parts))
