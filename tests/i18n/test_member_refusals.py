"""Refusals of a member's command and files read in their language, through the real service (real Redis, the
untrusted-media helper process), while English stays as it was."""

from __future__ import annotations

import io

from PIL import Image

from core.context import ChatContext
from core.contract import Attachment
from core.generation.pipeline import PipelineSet
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import Requester
from tests.conftest import running_worker, wait_for


def member(locale: str) -> Requester:
    return Requester(platform="test", user_id="u1", chat_id="c1", locale=locale)


def png(side: int = 64) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (side, side), "teal").save(buf, format="PNG")
    return buf.getvalue()


async def test_flag_errors_and_flag_help_in_the_members_language(service: Reelsmith) -> None:
    scale = await service.handle(member("de"), "/imagine a fox --scale 2")
    assert not scale.ok and scale.text.endswith("--scale funktioniert nur mit /upscale.")
    seed = await service.handle(member("ja"), "/imagine a fox --seed abc")
    assert "0〜4294967295 の整数（例: --seed 42）" in seed.text  # the flag's help, translated where shown
    english = await service.handle(member("en"), "/imagine a fox --seed abc")
    assert "a whole number 0-4294967295, e.g. --seed 42" in english.text


async def test_a_damaged_image_is_refused_in_russian_by_the_helper_process(service: Reelsmith) -> None:
    """The MediaError is made in the sandboxed decoder process: the locale crosses to it with the task."""
    broken = png()[:40]  # a PNG signature and header, then nothing
    out = await service.handle(member("ru"), "/edit make it snow", [Attachment(broken, "fox.png")])
    assert not out.ok and out.text.endswith(
        "Этот файл — не изображение, которое мы можем прочитать. Прикрепите PNG, JPEG, WebP или GIF.")
    english = await service.handle(member(""), "/edit make it snow", [Attachment(broken, "fox.png")])
    assert english.text.endswith("That file is not an image we can read. Attach a PNG, JPEG, WebP or GIF.")


async def test_attachment_and_reference_refusals_in_the_members_language(service: Reelsmith) -> None:
    empty = await service.handle(member("pt-BR"), "/edit make it snow", [Attachment(b"", "fox.png")])
    assert empty.text.endswith("fox.png está vazio.")
    upscale = await service.handle(member("es"), "/upscale")
    assert "/upscale necesita una imagen" in upscale.text
    named = await service.handle(member("ko"), "/video @image2 running", [Attachment(png(), "a.png")])
    assert "@image2은(는) 첨부되지 않았습니다" in named.text and "이미지 1개" in named.text


async def test_history_cancel_and_delete_answers_in_the_members_language(service: Reelsmith) -> None:
    history = await service.handle(member("ko"), "/history")
    assert history.text.startswith("여기에는 아직 결과가 없습니다")
    cancel = await service.handle(member("de"), "/cancel")
    assert cancel.text.endswith("Du hast hier keinen wartenden oder laufenden Job.")
    delete = await service.handle(member("zh-Hans"), "/delete abc!")
    assert "不是任务 ID" in delete.text


async def test_a_job_cancelled_by_an_english_moderator_is_answered_in_its_authors_language(
        service: Reelsmith) -> None:
    author = member("ru")
    queued = await service.handle(author, "/imagine a fox")
    assert queued.job_id is not None
    mod = await service.handle(member("en"), f"/mod cancel {queued.job_id}", ctx=ChatContext(is_moderator=True))
    assert mod.ok
    reply = await service.queue.load_reply(queued.job_id)
    assert reply is not None and reply.error == "Эта задача отменена (её автором или модератором). Ничего не списано."
    # Still known as cancelled, in any language: pressing Cancel again says so.
    again = await service.handle(author, f"/cancel {queued.job_id}")
    assert again.text.endswith("Эта задача уже отменена; ничего не списано.")


async def test_the_worker_answers_a_failed_job_in_the_members_language(
        service: Reelsmith, settings: Settings, pipelines: PipelineSet) -> None:
    """The attachment is gone when the worker takes the job: its error reply is written in Spanish."""
    queued = await service.handle(member("es"), "/edit make it snow", [Attachment(png(), "fox.png")])
    assert queued.ok and queued.job_id is not None
    request = await service.queue.load_request(queued.job_id)
    assert request is not None and request.references
    await service.blobs.delete([r.blob_key for r in request.references])
    async with running_worker(settings, pipelines):
        reply = await wait_for(lambda: service.queue.load_reply(str(queued.job_id)), timeout=60)
    assert reply.error == ("Tu archivo adjunto caducó antes de que se ejecutara el trabajo. Envíalo de nuevo; "
                           "no se cobró nada.")
