"""What media postprocessing costs, as ratios (machine-independent): run `python -m bench.media_bench`.

- meme captions on a 97-frame 768x432 clip vs. encoding that clip (layout once, composite per frame);
- an MP4 with an AAC soundtrack vs. the same MP4 silent.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PIL import Image

from core.media.audio import PcmAudio, fit_to
from core.media.codecs import encode_mp4
from core.media.memes import render_meme


def _best(fn: Callable[[], object], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    import numpy as np

    fps, n = 24, 97
    frames = [Image.new("RGB", (768, 432), (i * 2 % 255, 90, 160)) for i in range(n)]
    audio = fit_to(PcmAudio(np.random.default_rng(0).uniform(-0.3, 0.3, (2, 48_000 * 3)).astype(np.float32)),
                   n / fps)
    encode = _best(lambda: encode_mp4(frames, fps))
    meme = _best(lambda: render_meme(frames, "when the render finishes", "before the coffee does"))
    with_audio = _best(lambda: encode_mp4(frames, fps, audio=audio))
    print(f"meme captions / mp4 encode (97 frames 768x432): {meme / encode:.2f}")
    print(f"mp4 with AAC / mp4 silent: {with_audio / encode:.2f}")


if __name__ == "__main__":
    main()
