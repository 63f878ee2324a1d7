"""Real worker jobs through the playground: metadata, watermark, provenance, /verify, C2PA."""

from __future__ import annotations

import io
from typing import Any

import av
import pytest
from aiohttp.test_utils import TestClient
from PIL import Image

from core.context import ChatContext
from core.labelling.c2pa_signing import C2paSigner, read_manifest
from core.labelling.metadata import DIGITAL_SOURCE_TYPE
from core.labelling.provenance import ProvenanceRegistry, prompt_hash
from core.labelling.verify import image_xmp, inspect, metadata_from_tags, metadata_from_xmp, mp4_tags
from core.labelling.video_mark import decode_clip
from core.labelling.watermark import WatermarkParams, decode, matches, payload_for
from core.media.codecs import X264_DEFAULTS, encode_mp4
from core.service import Attachment
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import JobKind, Requester
from tests.conftest import wait_for
from tests.labelling.certs import es256_chain
from tests.labelling.images import half, jpeg, picture, reopen
from tests.playground import send


async def _result(client: TestClient[Any, Any], chat: str, text: str) -> tuple[str, bytes]:
    sent = await send(client, chat, text)
    assert sent["ok"], sent

    async def done() -> dict[str, Any] | None:
        resp = await client.get("/api/messages", params={"chat": chat})
        for m in (await resp.json())["messages"]:
            if m.get("job_id") == sent["job_id"] and m.get("done"):
                return dict(m)
        return None

    msg = await wait_for(done, timeout=120)
    assert not msg["error"], msg["text"]
    data = await (await client.get(msg["media"][0]["url"])).read()
    return str(sent["job_id"]), data


async def _verify(client: TestClient[Any, Any], chat: str, name: str, data: bytes, mime: str) -> str:
    sent = await send(client, chat, "/verify", [(name, data, mime)])
    return str(sent["message"]["text"])


@pytest.mark.labelling_settings(image_base_size=256)
async def test_image_job_is_labelled_traceable_and_verifiable(
        web_client: TestClient[Any, Any], worker: Any, service: Reelsmith, settings: Settings) -> None:
    job_id, png = await _result(web_client, "lab1", "/imagine a lighthouse at dusk --seed 3")
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.size == (256, 256)

    meta = metadata_from_xmp(image_xmp(img))  # machine-readable label, parsed back
    assert meta is not None and meta.source_type == DIGITAL_SOURCE_TYPE
    assert meta.aigc_label and meta.producer == "Reelsmith" and meta.job_id == job_id

    payload = payload_for(job_id)  # invisible mark of the job id
    pixels = img.convert("RGB")
    assert matches(decode(pixels), payload)
    assert matches(decode(reopen(jpeg(pixels, 75))), payload)
    assert matches(decode(reopen(jpeg(half(pixels), 75)), sizes=[(256, 256)]), payload)

    registry = ProvenanceRegistry(service.redis, settings)  # who asked, kept in Redis with a TTL
    record = await wait_for(lambda: registry.get(job_id))
    assert (record.platform, record.user_id, record.chat_id) == ("web", "lab1", "lab1")
    assert record.prompt_sha256 == prompt_hash("a lighthouse at dusk") and record.model
    assert job_id in await registry.jobs_for_payload(payload)
    ttl = await service.redis.ttl(settings.key("prov", "job", job_id))
    assert 0 < ttl <= settings.provenance_retention_s

    # /verify in the playground (its user moderates its own chat, so it sees the job and user).
    text = await _verify(web_client, "lab1", "out.png", png, "image/png")
    assert text.startswith("\u2705") and "invisible watermark" in text and "metadata" in text
    assert f"job {job_id}" in text and "web:lab1" in text

    recompressed = jpeg(half(pixels), 75)  # what a chat platform does: metadata gone, smaller, JPEG
    assert metadata_from_xmp(image_xmp(Image.open(io.BytesIO(recompressed)))) is None
    text = await _verify(web_client, "lab1", "photo.jpg", recompressed, "image/jpeg")
    assert text.startswith("\u2705") and "invisible watermark" in text and "metadata" not in text
    assert f"job {job_id}" in text

    text = await _verify(web_client, "lab1", "cat.jpg", jpeg(picture(99, (320, 240))), "image/jpeg")
    assert text.startswith("\u274c")

    # A member who is not a moderator learns that it was made here, not by whom.
    member = Requester(platform="web", user_id="someone", chat_id="lab1")
    outcome = await service.handle(member, "/verify", [Attachment(recompressed, "p.jpg")],
                                   ChatContext(is_moderator=False))
    assert outcome.ok and outcome.text.startswith("\u2705")
    assert job_id not in outcome.text and "lab1" not in outcome.text


async def test_video_job_has_parseable_mp4_metadata(
        web_client: TestClient[Any, Any], worker: Any) -> None:
    job_id, mp4 = await _result(web_client, "lab2", "/video waves on a shore --frames 9")
    meta = metadata_from_tags(mp4_tags(mp4))
    assert meta is not None and meta.source_type == DIGITAL_SOURCE_TYPE
    assert meta.aigc_label and meta.producer == "Reelsmith" and meta.job_id == job_id
    with av.open(io.BytesIO(mp4)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 9

    text = await _verify(web_client, "lab2", "clip.mp4", mp4, "video/mp4")
    assert text.startswith("\u2705") and "metadata" in text and f"job {job_id}" in text


def _reencoded(mp4: bytes, fps: int, *, size: tuple[int, int] | None = None, skip: int = 0, crf: int = 28) -> bytes:
    with av.open(io.BytesIO(mp4), format="mp4") as container:
        frames = [f.to_image() for f in container.decode(video=0)][skip:]
    if size is not None:
        frames = [f.resize(size, Image.Resampling.BICUBIC) for f in frames]
    return encode_mp4(frames, fps, crf=crf, x264_params=X264_DEFAULTS)  # someone else's encoder


@pytest.mark.labelling_settings(video_base_size=256, video_fps=8)
async def test_a_transcoded_or_trimmed_clip_is_found_with_its_job(
        web_client: TestClient[Any, Any], worker: Any) -> None:
    job_id, mp4 = await _result(web_client, "lab5", "/video a sailing boat --frames 17")
    # What platforms and members do: Telegram's 360p rendition, the first second cut; the tags are gone.
    for name, copy in (("360p.mp4", _reencoded(mp4, 8, size=(360, 360), crf=26)),
                       ("trimmed.mp4", _reencoded(mp4, 8, skip=8, crf=23))):
        assert metadata_from_tags(mp4_tags(copy)) is None
        text = await _verify(web_client, "lab5", name, copy, "video/mp4")
        assert text.startswith("\u2705") and "invisible watermark" in text and f"job {job_id}" in text, (name, text)
    with av.open(io.BytesIO(mp4), format="mp4") as container:
        plain = [f.to_image() for f in container.decode(video=0)]
    unmarked = encode_mp4([picture(70 + i, plain[0].size) for i in range(len(plain))], 8, crf=23)
    text = await _verify(web_client, "lab5", "other.mp4", unmarked, "video/mp4")
    assert text.startswith("\u274c")


async def test_verify_without_attachment_says_what_to_do(web_client: TestClient[Any, Any]) -> None:
    sent = await send(web_client, "lab3", "/verify")
    assert not sent["ok"] and "Attach an image or video" in sent["message"]["text"]
    text = await _verify(web_client, "lab3", "notes.txt", b"hello there", "text/plain")
    assert "checks images" in text


@pytest.mark.labelling_settings(c2pa=True)
async def test_c2pa_signed_when_configured(web_client: TestClient[Any, Any], worker: Any,
                                           settings: Settings) -> None:
    job_id, png = await _result(web_client, "lab4", "/imagine a signed fox")
    info = read_manifest(png, "image/png")
    assert info.present and info.valid, info.problems
    assert info.job_id == job_id and info.ai_generated and info.generator == "Reelsmith"
    assert metadata_from_xmp(image_xmp(Image.open(io.BytesIO(png)))) is not None  # XMP kept under the manifest

    text = await _verify(web_client, "lab4", "signed.png", png, "image/png")
    assert "signed C2PA manifest" in text and f"job {job_id}" in text

    # A manifest that names Reelsmith but is signed with someone else's key is not ours.
    chain, key = es256_chain()
    forged = C2paSigner(chain, key, producer="Reelsmith").sign(jpeg(picture(5)), "image/jpeg",
                                                             kind=JobKind.IMAGE, job_id=job_id, model="m")
    assert read_manifest(forged, "image/jpeg").valid
    assert not inspect(forged, settings).has_c2pa

    tampered = bytearray(png)
    idat = png.index(b"IDAT")
    tampered[idat + 10] ^= 0xFF
    assert not read_manifest(bytes(tampered), "image/png").valid


def test_unsigned_output_has_no_manifest() -> None:
    buf = io.BytesIO()
    picture(1).save(buf, format="PNG")
    assert not read_manifest(buf.getvalue(), "image/png").present


def test_watermark_params_default_to_settings() -> None:
    s = Settings(_env_file=None)
    assert WatermarkParams().scale == s.watermark_scale


@pytest.mark.labelling_settings(video_base_size=256, video_fps=8)
async def test_a_gif_clip_carries_the_mark_its_mp4_would(web_client: TestClient[Any, Any], worker: Any) -> None:
    """MP4s get the mark in their Y plane; a GIF, which has none, must still get it (in RGB, before quantising)."""
    job_id, gif = await _result(web_client, "lab6", "/video a kite in the wind --frames 9 --format gif")
    img = Image.open(io.BytesIO(gif))
    assert img.format == "GIF" and getattr(img, "n_frames", 1) == 9
    frames = []
    for i in range(9):
        img.seek(i)
        frames.append(img.convert("RGB"))
    got = decode_clip(frames)
    assert matches(got, payload_for(job_id)), got
