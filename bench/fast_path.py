"""Post-render fast path: labelling overhead / plain encode, for 512² and 1024² images and a 97-frame clip.

For each size it times, medians of N in one run:
- plain: the unlabelled result saved as it would be without labels (Pillow's default PNG save; for the
  clip, the same H.264 MP4 without tags);
- before: the labelling as it was (tests/labelling/reference.py: full-frame badge overlay, full YUV
  DWT-DCT-SVD embed, PNG at compress level 6 with XMP);
- after: what the worker runs now (the labelling feature's frame steps, then the output encoder; a clip's
  mark goes into the MP4's Y plane as the encoder converts each frame).
and prints before/plain and after/plain with the goal (<= 1.5x).

    .venv/bin/python bench/fast_path.py [--n 7] [--clip-n 3]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from core.labelling import watermark as wm  # noqa: E402
from core.labelling.metadata import mp4_metadata, xmp_packet  # noqa: E402
from core.labelling.output import encode_image  # noqa: E402
from core.labelling.steps import badge_step, badge_style, labelling_feature, watermark_step  # noqa: E402
from core.media.codecs import encode_mp4  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.types import GenerationRequest, JobKind, Requester  # noqa: E402
from tests.labelling import reference  # noqa: E402
from tests.labelling.images import picture  # noqa: E402

GOAL = 1.5


def median_s(fn: Callable[[], object], n: int) -> float:
    fn()  # warm: fonts, caches, first-call allocations
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def median_on_fresh(fn: Callable[[list[Image.Image]], object], frames: list[Image.Image], n: int) -> float:
    """`median_s` of `fn` on a fresh copy of `frames` each time, copied untimed: the worker's frame steps get
    the pipeline's new frames and may draw on them in place, as the badge does on a clip's."""
    fn([f.copy() for f in frames])
    times = []
    for _ in range(n):
        fresh = [f.copy() for f in frames]
        t = time.perf_counter()
        fn(fresh)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def plain_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def clip(w: int, h: int, frames: int) -> list[Image.Image]:
    """A smooth picture panning sideways, so H.264 sees motion like a generated clip (the whole frame moves: the
    static mark's worst case, since x264 predicts the pan exactly and only the mark is left as residual)."""
    base = np.asarray(picture(30, (w + frames * 2, h)))
    return [Image.fromarray(np.ascontiguousarray(base[:, 2 * i:2 * i + w])) for i in range(frames)]


def still_camera_clip(w: int, h: int, frames: int) -> list[Image.Image]:
    """A still camera: the same textured background, with a subject (a textured disc) crossing it, as most
    generated clips are shot; there the static mark is predicted from the previous frame like the background."""
    background = np.asarray(picture(31, (w, h)))
    subject = np.asarray(picture(32, (h // 2, h // 2)))
    yy, xx = np.mgrid[: h // 2, : h // 2]
    disc = (yy - h // 4) ** 2 + (xx - h // 4) ** 2 < (h // 4) ** 2
    out = []
    for i in range(frames):
        frame = background.copy()
        x0, y0 = 16 + i * (w - h // 2 - 32) // max(1, frames - 1), h // 4
        region = frame[y0:y0 + h // 2, x0:x0 + h // 2]
        region[disc] = subject[disc]
        out.append(Image.fromarray(frame))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=7, help="repeats per image size")
    ap.add_argument("--clip-n", type=int, default=3, help="repeats for the clip")
    ap.add_argument("--platform", default="playground", help="destination platform of the results")
    args = ap.parse_args()
    s = Settings(_env_file=None)
    who = Requester(platform=args.platform, user_id="u", chat_id="c")
    badge, mark = badge_step(s), watermark_step(s)
    style = badge_style(s)
    rows: list[tuple[str, float, float, float, int, int]] = []
    same: list[str] = []

    for side in (512, 1024):
        img = picture(side, (side, side))
        req = GenerationRequest(requester=who, kind=JobKind.IMAGE, prompt="bench", width=side, height=side, seed=1,
                                steps=1)
        xmp = xmp_packet(kind=req.kind, producer=s.service_name, job_id=req.job_id, model="bench")
        params = wm.WatermarkParams(scale=s.watermark_scale)
        payload = wm.payload_for(req.job_id)

        def before(img: Image.Image = img, xmp: bytes = xmp, params: wm.WatermarkParams = params,
                   payload: int = payload) -> bytes:
            return reference.encode_png(reference.embed(reference.draw_badge(img, style), payload, params), xmp)

        def after(img: Image.Image = img, req: GenerationRequest = req, xmp: bytes = xmp) -> bytes:
            frames = mark(req, badge(req, [img]))
            return encode_image(frames[0], xmp, req.requester.platform, s).data

        t_plain = median_s(lambda img=img: plain_png(img), args.n)  # type: ignore[misc]
        t_before, t_after = median_s(before, args.n), median_s(after, args.n)
        rows.append((f"{side}x{side} image", t_plain, t_before, t_after, len(before()), len(after())))
        # The same format and settings without the labels: what the labels alone add to this encoder.
        t_same = median_s(lambda img=img: encode_image(img, b"", args.platform, s), args.n)  # type: ignore[misc]
        same.append(f"{side}x{side}: after / plain {encode_image(img, b'', args.platform, s).mime} at the "
                    f"same settings ({t_same * 1000:.1f} ms) = {t_after / t_same:.2f}x")

    frames = clip(768, 432, 97)
    vreq = GenerationRequest(requester=who, kind=JobKind.VIDEO, prompt="bench", width=768, height=432, seed=1,
                             num_frames=97, fps=16, steps=1)
    meta = mp4_metadata(kind=vreq.kind, producer=s.service_name, job_id=vreq.job_id, model="bench",
                        label_text=s.label_text)
    vparams = wm.WatermarkParams(scale=64.0)  # the per-frame image mark clips got before video_mark
    vpayload = wm.payload_for(vreq.job_id)

    def v_before(frames: list[Image.Image]) -> bytes:
        marked = [reference.embed(reference.draw_badge(f, style), vpayload, vparams) for f in frames]
        return encode_mp4(marked, 16, meta)

    feature = labelling_feature(s, None)
    (clip_mark,) = feature.clip_marks

    def v_labelled(frames: list[Image.Image]) -> list[Image.Image]:
        out = frames
        for step in feature.frame_steps:  # the badge (the watermark step leaves video frames to the encoder)
            out = step(vreq, out)
        return out

    def v_after(frames: list[Image.Image]) -> bytes:  # what the worker runs: frame steps, then the Y-plane mark
        labelled = v_labelled(frames)
        return encode_mp4(labelled, 16, meta, luma_change=clip_mark.change(vreq, labelled[0].size))

    for name, clip_frames in (("97-frame 768x432 clip", frames),
                              ("the same, still camera", still_camera_clip(768, 432, 97))):
        t_plain = median_s(lambda f=clip_frames: encode_mp4(f, 16), args.clip_n)  # type: ignore[misc]
        t_before = median_s(lambda f=clip_frames: v_before(f), args.clip_n)  # type: ignore[misc]
        t_after = median_on_fresh(v_after, clip_frames, args.clip_n)
        rows.append((name, t_plain, t_before, t_after, len(v_before(clip_frames)),
                     len(v_after([f.copy() for f in clip_frames]))))
    t_plain = rows[-2][1]
    # Where the clip's time goes now: the frame steps, the encode of their frames without the mark, and with it
    # (the Y-plane add and x264's extra work on the marked pixels), and what the previous RGB pass cost.
    badged = v_labelled([f.copy() for f in frames])
    change = clip_mark.change(vreq, badged[0].size)
    t_steps = median_on_fresh(v_labelled, frames, args.clip_n)
    t_unmarked = median_s(lambda: encode_mp4(badged, 16, meta), args.clip_n)
    t_enc = median_s(lambda: encode_mp4(badged, 16, meta, luma_change=change), args.clip_n)
    t_rgb = median_s(lambda: mark(vreq, badged), args.clip_n)
    clip_parts = (f"clip, after: frame steps (badge) {t_steps * 1000:.0f} ms + encode with the mark in Y "
                  f"{t_enc * 1000:.0f} ms ({len(encode_mp4(badged, 16, meta, luma_change=change)):,} B; without "
                  f"the mark {t_unmarked * 1000:.0f} ms); plain {t_plain * 1000:.0f} ms, "
                  f"{len(encode_mp4(frames, 16)):,} B; the RGB mark pass it replaces: {t_rgb * 1000:.0f} ms")

    print(f"platform {args.platform}; medians of {args.n} (images) / {args.clip_n} (clip); goal after/plain <= {GOAL}x")
    print(f"{'output':24s} {'plain ms':>9s} {'before ms':>10s} {'after ms':>9s} {'before/plain':>13s} "
          f"{'after/plain':>12s} {'bytes before':>13s} {'bytes after':>12s}")
    for name, p, b, a, nb, na in rows:
        verdict = "ok" if a / p <= GOAL else "OVER"
        print(f"{name:24s} {p * 1000:9.1f} {b * 1000:10.1f} {a * 1000:9.1f} {b / p:12.2f}x {a / p:11.2f}x "
              f"{nb:13,d} {na:12,d}  {verdict}")
    for line in (*same, clip_parts):
        print(line)


if __name__ == "__main__":
    main()
