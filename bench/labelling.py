"""Labelling bench: watermark survival (clean, JPEG q75, 0.5x resize + JPEG q75) and labelling time vs generation.

Generates N images with the configured pipeline (default: the tiny model at 256 px, whose output is
noise: the hardest case for a DWT watermark), plus N smooth synthetic pictures closer to what real
models draw, and prints survival rates and per-image labelling time relative to generation time.

    .venv/bin/python bench/labelling.py [--n 20] [--size 256]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from core.generation.pipeline import PipelineSet  # noqa: E402
from core.labelling import watermark as wm  # noqa: E402
from core.labelling.metadata import xmp_packet  # noqa: E402
from core.labelling.steps import badge_step, watermark_step  # noqa: E402
from core.labelling.verify import candidate_sizes  # noqa: E402
from core.media.codecs import encode_png  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.types import GenerationRequest, JobKind, Requester  # noqa: E402
from tests.labelling.images import half, jpeg, picture, reopen  # noqa: E402


def survival(name: str, images: list[tuple[GenerationRequest, Image.Image]], settings: Settings) -> None:
    params = wm.WatermarkParams(scale=settings.watermark_scale)
    ok = {"clean": 0, "jpeg q75": 0, "0.5x + jpeg q75": 0}
    conf: dict[str, list[float]] = {k: [] for k in ok}
    unmarked: list[float] = []
    for request, img in images:
        payload = wm.payload_for(request.job_id)
        marked = wm.embed(img, payload, params)
        attacks = {"clean": marked, "jpeg q75": reopen(jpeg(marked, 75)), "0.5x + jpeg q75": reopen(jpeg(half(marked)))}
        for key, attacked in attacks.items():
            got = wm.decode(attacked, candidate_sizes(attacked.size, settings), params)
            ok[key] += wm.matches(got, payload)
            conf[key].append(got.confidence if got else 0.0)
        plain = reopen(jpeg(half(img)))
        got = wm.decode(plain, candidate_sizes(plain.size, settings), params)
        unmarked.append(got.confidence if got else 0.0)
    n = len(images)
    print(f"\n{name}: {n} images at {images[0][1].size[0]}x{images[0][1].size[1]}, scale {params.scale}")
    for key in ok:
        print(f"  {key:18s} decoded {ok[key]:2d}/{n} = {ok[key] / n:6.1%}   min confidence {min(conf[key]):.2f}")
    print(f"  unmarked photos    max confidence {max(unmarked):.2f} (a reading counts only if its codeword is valid)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=2)
    args = ap.parse_args()
    settings = Settings(_env_file=None, image_base_size=args.size)
    pipes = PipelineSet(settings)
    pipes.warm_up((JobKind.IMAGE,))
    who = Requester(platform="bench", user_id="u", chat_id="c")
    generated: list[tuple[GenerationRequest, Image.Image]] = []
    gen_s: list[float] = []
    label_s: list[float] = []
    steps = [badge_step(settings), watermark_step(settings)]
    for i in range(args.n):
        request = GenerationRequest(requester=who, kind=JobKind.IMAGE, prompt=f"bench picture {i}",
                                    width=args.size, height=args.size, seed=i, steps=args.steps)
        t = time.perf_counter()
        result = pipes.generate(request, [])
        gen_s.append(time.perf_counter() - t)
        generated.append((request, result.frames[0]))
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
    survival(f"tiny-model outputs ({pipes.model_label(JobKind.IMAGE)}, noise)", generated, settings)
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
    t = time.perf_counter()
    wm.decode_at(big)
    d = time.perf_counter() - t
    print(f"watermark at 1024x1024: embed {e * 1000:.0f} ms, decode {d * 1000:.0f} ms")


if __name__ == "__main__":
    main()
