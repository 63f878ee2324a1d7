"""Labelling bench: watermark survival under what members and platforms do to files, and labelling time.

Generates N images with the configured pipeline (default: the tiny model at 256 px, whose output is
noise: the hardest case for a DWT watermark), plus N smooth synthetic pictures closer to what real
models draw, marks them (PSNR printed), attacks them (JPEG q60, 0.5x not scaled back, a 5%-per-side crop,
each of the 8 orientations, screenshots at 0.8x and 1.25x, ...) and reads them as /verify does
(`mark_search.search` with the candidate generation sizes); a decode counts only if the reading is a
valid codeword carrying the job's 32 bits. Unmarked copies give the readings tried per /verify and how
many were valid anyway (the false-accept estimate in bench/README.md). Prints labelling time vs generation.

`--video N` adds the video mark (core/labelling/video_mark.py): N tiny-model clips and N smooth synthetic
clips (panning and turning pictures), each marked by the worker's watermark step, encoded as the worker does
(CRF 20), then attacked as platforms and members do (CRF 28 re-encode, 0.5x + CRF 28, a 360p transcode like
Telegram's, the first second cut) and read as /verify reads them (12 frames, every orientation and candidate
size); PSNR of the marked frames is printed too. Tiny-model clips are slow to render on a CPU: `--clip-cache
DIR` keeps them between runs.

    .venv/bin/python bench/labelling.py [--n 20] [--size 256] [--video 20] [--video-only] [--clip-cache DIR]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from core.generation.pipeline import PipelineSet  # noqa: E402
from core.labelling import watermark as wm  # noqa: E402
from core.labelling.mark_search import search  # noqa: E402
from core.labelling.metadata import xmp_packet  # noqa: E402
from core.labelling.steps import badge_step, watermark_step  # noqa: E402
from core.labelling.verify import candidate_sizes  # noqa: E402
from core.media.codecs import encode_png  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.types import GenerationRequest, JobKind, Requester  # noqa: E402
from tests.labelling.images import crop_sides, half, jpeg, picture, reopen, screenshot  # noqa: E402

ATTACKS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "clean": lambda m: m,
    "jpeg q60": lambda m: reopen(jpeg(m, 60)),
    "0.5x (not scaled back)": half,
    "0.5x + jpeg q60": lambda m: reopen(jpeg(half(m), 60)),
    "5% crop per side": crop_sides,
    "5% crop + jpeg q75": lambda m: reopen(jpeg(crop_sides(m), 75)),
    **{f"orientation {name}": (lambda t: lambda m: m.transpose(t))(turn)
       for name, turn in (("rot90", Image.Transpose.ROTATE_90), ("rot180", Image.Transpose.ROTATE_180),
                          ("rot270", Image.Transpose.ROTATE_270), ("mirror", Image.Transpose.FLIP_LEFT_RIGHT),
                          ("flip", Image.Transpose.FLIP_TOP_BOTTOM), ("transpose", Image.Transpose.TRANSPOSE),
                          ("transverse", Image.Transpose.TRANSVERSE))},
    "screenshot 0.8x (border)": lambda m: screenshot(m, 0.8),
    "screenshot 1.25x + jpeg q85": lambda m: reopen(jpeg(screenshot(m, 1.25), 85)),
}


def psnr(a: Image.Image, b: Image.Image) -> float:
    mse = float(np.mean((np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) ** 2))
    return 10 * math.log10(255**2 / mse) if mse > 0 else math.inf


def survival(name: str, images: list[tuple[GenerationRequest, Image.Image]], settings: Settings) -> None:
    params = wm.WatermarkParams(scale=settings.watermark_scale)

    def sizes_for(size: tuple[int, int]) -> list[tuple[int, int]]:
        return candidate_sizes(size, settings)

    ok = dict.fromkeys(ATTACKS, 0)
    conf: dict[str, list[float]] = {k: [] for k in ATTACKS}
    psnrs: list[float] = []
    unmarked_readings: list[int] = []
    unmarked_valid = 0
    for request, img in images:
        payload = wm.payload_for(request.job_id)
        marked = wm.embed(img, payload, params)
        psnrs.append(psnr(img, marked))
        for key, attack in ATTACKS.items():
            got = search(attack(marked), sizes_for, params).decoded
            ok[key] += wm.matches(got, payload)
            conf[key].append(got.confidence if got else 0.0)
        for plain in (reopen(jpeg(img, 75)), screenshot(img, 0.8), reopen(jpeg(crop_sides(half(img)), 60))):
            found = search(plain, sizes_for, params)
            unmarked_readings.append(found.readings)
            unmarked_valid += found.decoded is not None and found.decoded.valid
    n = len(images)
    print(f"\n{name}: {n} images at {images[0][1].size[0]}x{images[0][1].size[1]}, scale {params.scale}, "
          f"PSNR min {min(psnrs):.1f} dB, mean {statistics.mean(psnrs):.1f} dB")
    for key in ATTACKS:
        print(f"  {key:30s} decoded {ok[key]:2d}/{n} = {ok[key] / n:6.1%}   min confidence {min(conf[key]):.2f}")
    turns = sum(ok[k] for k in ATTACKS if k.startswith("orientation")) + ok["clean"]
    print(f"  {'all 8 orientations':30s} decoded {turns}/{8 * n} = {turns / (8 * n):6.1%}")
    print(f"  unmarked copies (jpeg, screenshot, crop of 0.5x): {len(unmarked_readings)} searched, "
          f"readings tried per /verify max {max(unmarked_readings)}, mean {statistics.mean(unmarked_readings):.0f}; "
          f"valid readings {unmarked_valid} (a claim also needs the payload to name a job on record)")


def _frames_of(data: bytes) -> list[Image.Image]:
    import io

    import av

    with av.open(io.BytesIO(data), format="mp4") as container:
        return [f.to_image() for f in container.decode(video=0)]


def _even(size: tuple[int, int]) -> tuple[int, int]:
    return size[0] // 2 * 2, size[1] // 2 * 2


def video_attacks(data: bytes, fps: int) -> dict[str, bytes]:
    """What platforms and members do to a clip: re-encode, downscale, Telegram's 360p, cut the start."""
    from core.media.codecs import X264_DEFAULTS, encode_mp4

    def again(frames: list[Image.Image], crf: int) -> bytes:  # their encoder: x264's defaults, not ours
        return encode_mp4(frames, fps, crf=crf, x264_params=X264_DEFAULTS)

    frames = _frames_of(data)
    w, h = frames[0].size
    p360 = _even((round(w * 360 / min(w, h)), 360) if w >= h else (360, round(h * 360 / min(w, h))))
    return {
        "as sent (CRF 20)": data,
        "CRF 28": again(frames, 28),
        "0.5x + CRF 28": again([f.resize(_even((w // 2, h // 2)), Image.Resampling.BICUBIC) for f in frames], 28),
        "360p (CRF 26)": again([f.resize(p360, Image.Resampling.BICUBIC) for f in frames], 26),
        "first 1 s cut (CRF 23)": again(frames[fps:], 23),
    }


def video_survival(name: str, clips: list[tuple[GenerationRequest, list[Image.Image]]], settings: Settings) -> None:
    """Mark each clip with the worker's step, encode, attack, and read it back as /verify does."""
    from core.labelling.steps import clip_mark_step
    from core.labelling.verify import read_video_mark
    from core.media.codecs import encode_mp4

    clip_mark = clip_mark_step(settings)  # the worker's path: the pattern added in the MP4 encoder's Y plane
    ok: dict[str, int] = {}
    conf: dict[str, list[float]] = {}
    psnrs: list[float] = []
    unmarked_valid = 0
    for request, frames in clips:
        payload = wm.payload_for(request.job_id)
        sent = encode_mp4(frames, request.fps, luma_change=clip_mark.change(request, frames[0].size))
        # PSNR of the mark itself: the RGB twin of the Y-plane add (equal within a level, test_video_mark.py), since
        # two lossy encodes of the marked and unmarked frames differ by more than the mark.
        psnrs += [psnr(a, b) for a, b in zip(frames, clip_mark.apply(request, frames), strict=True)]
        for key, data in video_attacks(sent, request.fps).items():
            got = read_video_mark(_sample(_frames_of(data), settings.verify_max_video_frames), settings)
            ok[key] = ok.get(key, 0) + wm.matches(got, payload)
            conf.setdefault(key, []).append(got.confidence if got else 0.0)
        plain = video_attacks(encode_mp4(frames, request.fps), request.fps)["CRF 28"]
        got = read_video_mark(_sample(_frames_of(plain), settings.verify_max_video_frames), settings)
        unmarked_valid += got is not None and got.valid
    n = len(clips)
    w, h = clips[0][1][0].size
    print(f"\n{name}: {n} clips at {w}x{h}, {len(clips[0][1])} frames; PSNR of the marked frames "
          f"min {min(psnrs):.1f} dB, median {statistics.median(psnrs):.1f} dB")
    for key in ok:
        print(f"  {key:24s} decoded {ok[key]:2d}/{n} = {ok[key] / n:6.1%}   min confidence {min(conf[key]):.3f}")
    print(f"  unmarked, CRF 28: {unmarked_valid} valid readings of {n}")


def _sample(frames: list[Image.Image], count: int) -> list[Image.Image]:
    """The frames /verify reads: `count` spread evenly over the clip."""
    return [frames[i * len(frames) // count] for i in range(count)] if len(frames) > count else frames


def synthetic_clips(n: int, size: tuple[int, int], frames: int, fps: int) -> list[tuple[GenerationRequest,
                                                                                         list[Image.Image]]]:
    """Smooth pictures moving as generated clips do: half pan sideways, half turn and zoom slowly."""
    import numpy as np

    who = Requester(platform="bench", user_id="u", chat_id="c")
    w, h = size
    out = []
    for i in range(n):
        request = GenerationRequest(requester=who, kind=JobKind.VIDEO, prompt=f"clip {i}", width=w, height=h,
                                    seed=i, steps=1, num_frames=frames, fps=fps)
        if i % 2 == 0:
            base = np.asarray(picture(2000 + i, (w + 2 * frames, h)))
            clip = [Image.fromarray(np.ascontiguousarray(base[:, 2 * k:2 * k + w])) for k in range(frames)]
        else:
            big = picture(2000 + i, (w + w // 4, h + h // 4))
            clip = [big.rotate(k * 0.3, resample=Image.Resampling.BICUBIC).crop(
                (w // 8 - k // 4, h // 8 - k // 4, w // 8 + w + k // 4, h // 8 + h + k // 4)).resize(
                (w, h), Image.Resampling.BICUBIC) for k in range(frames)]
        out.append((request, clip))
    return out


def tiny_clips(n: int, size: int, frames: int, fps: int, steps: int,
               cache: Path | None) -> list[tuple[GenerationRequest, list[Image.Image]]]:
    """N clips from the tiny video model (noise, new in every frame), kept in `cache` when given."""
    import numpy as np

    settings = Settings(_env_file=None, video_base_size=size)
    pipes: PipelineSet | None = None
    who = Requester(platform="bench", user_id="u", chat_id="c")
    out = []
    for i in range(n):
        request = GenerationRequest(requester=who, kind=JobKind.VIDEO, prompt=f"bench clip {i}", width=size,
                                    height=size, seed=i, steps=steps, num_frames=frames, fps=fps)
        path = cache / f"tiny-{size}-{frames}-{steps}-{i}.npy" if cache else None
        if path is not None and path.exists():
            arr = np.load(path)
        else:
            if pipes is None:
                pipes = PipelineSet(settings)
                pipes.warm_up((JobKind.VIDEO,))
            arr = np.stack([np.asarray(f.convert("RGB")) for f in pipes.generate(request, []).frames])
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, arr)
        out.append((request, [Image.fromarray(a) for a in arr]))
    return out


def video_main(args: argparse.Namespace) -> None:
    settings = Settings(_env_file=None)
    cache = Path(args.clip_cache) if args.clip_cache else None
    print(f"video mark: {settings.video_watermark_cell} px cells, amplitude {settings.video_watermark_amplitude}; "
          f"/verify reads {settings.verify_max_video_frames} frames")
    # /verify scales a copy back to the configured video size: the size these clips were made at.
    video_survival("tiny-model clips (noise)", tiny_clips(args.video, args.clip_size, args.clip_frames, 8, 2, cache),
                   settings.model_copy(update={"video_base_size": args.clip_size}))
    video_survival("smooth synthetic clips", synthetic_clips(args.video, (768, 432), 33, 16),
                   settings.model_copy(update={"video_base_size": 768}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--video", type=int, default=0, help="clips per video set (0: no video section)")
    ap.add_argument("--video-only", action="store_true", help="skip the image sections")
    ap.add_argument("--clip-size", type=int, default=256, help="side of the tiny-model clips")
    ap.add_argument("--clip-frames", type=int, default=17, help="frames of the tiny-model clips (8 fps)")
    ap.add_argument("--clip-cache", default="", help="directory keeping rendered tiny-model clips")
    args = ap.parse_args()
    if args.video:
        video_main(args)
    if args.video_only:
        return
    settings = Settings(_env_file=None, image_base_size=args.size)
    pipes = PipelineSet(settings)
    pipes.warm_up((JobKind.IMAGE,))
    who = Requester(platform="bench", user_id="u", chat_id="c")
    generated: list[tuple[GenerationRequest, Image.Image]] = []
    gen_s: list[float] = []
    label_s: list[float] = []
    steps = [badge_step(settings), watermark_step(settings)]
    model = ""
    for i in range(args.n):
        request = GenerationRequest(requester=who, kind=JobKind.IMAGE, prompt=f"bench picture {i}",
                                    width=args.size, height=args.size, seed=i, steps=args.steps)
        t = time.perf_counter()
        result = pipes.generate(request, [])
        gen_s.append(time.perf_counter() - t)
        generated.append((request, result.frames[0]))
        model = result.model
        t = time.perf_counter()
        frames = result.frames
        for step in steps:
            frames = step(request, frames)
        encode_png(frames[0], xmp_packet(kind=request.kind, producer="Reelsmith", job_id=request.job_id,
                                         model=result.model))
        label_s.append(time.perf_counter() - t)
    plain_png = [0.0]
    for _request, img in generated[:5]:
        t = time.perf_counter()
        encode_png(img)
        plain_png.append(time.perf_counter() - t)
    survival(f"tiny-model outputs ({model}, noise)", generated, settings)
    synthetic = [(GenerationRequest(requester=who, kind=JobKind.IMAGE, prompt="s", width=args.size,
                                    height=args.size, seed=i, steps=1), picture(1000 + i, (args.size, args.size)))
                 for i in range(args.n)]
    survival("smooth synthetic pictures", synthetic, settings)
    g, lab = statistics.median(gen_s), statistics.median(label_s)
    print(f"\nper image: generation {g * 1000:.0f} ms (tiny model, {args.steps} steps, CPU), "
          f"labelling (badge + watermark + XMP PNG) {lab * 1000:.1f} ms = {lab / g:.1%} of generation "
          f"(plain PNG encode {statistics.median(plain_png[1:]) * 1000:.1f} ms)")
    big = picture(7, (1024, 1024))
    t = time.perf_counter()
    wm.embed(big, 1)
    e = time.perf_counter() - t
    marked = wm.embed(big, 1)
    t = time.perf_counter()
    wm.decode_at(big)
    d = time.perf_counter() - t

    def sizes_1024(size: tuple[int, int]) -> list[tuple[int, int]]:
        return candidate_sizes(size, settings.model_copy(update={"image_base_size": 1024}))

    timed = {}
    for key in ("clean", "5% crop per side", "screenshot 0.8x (border)"):
        attacked = ATTACKS[key](marked)
        t = time.perf_counter()
        search(attacked, sizes_1024)
        timed[key] = time.perf_counter() - t
    t = time.perf_counter()
    found = search(reopen(jpeg(big, 75)), sizes_1024)
    unmarked_s = time.perf_counter() - t
    print(f"watermark at 1024x1024: embed {e * 1000:.0f} ms, one reading {d * 1000:.0f} ms; /verify search: "
          + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in timed.items())
          + f", unmarked (every geometry, {found.readings} readings) {unmarked_s * 1000:.0f} ms")


if __name__ == "__main__":
    main()
