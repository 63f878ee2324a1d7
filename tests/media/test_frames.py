"""Reference frames: videos sampled to a clip's length and resized as they decode; GIF frames kept."""

from __future__ import annotations

import numpy as np

from core.media.codecs import image_frames, video_frames
from tests.media.helpers import gif, mp4


def test_video_sampled_evenly_and_fitted() -> None:
    frames, fps = video_frames(mp4(frames=30, size=(96, 64)), count=9, size=(32, 32))
    assert len(frames) == 9 and {f.size for f in frames} == {(32, 32)}
    assert abs(fps - 24 * 9 / 30) < 0.01
    reds = [int(np.asarray(f)[16, 16, 0]) for f in frames]
    assert reds == sorted(reds) and reds[-1] - reds[0] > 150  # spread over the whole clip, in order


def test_short_video_repeats_frames_to_the_count() -> None:
    frames, _fps = video_frames(mp4(frames=4), count=9)
    assert len(frames) == 9


def test_max_frames_and_max_side() -> None:
    frames, fps = video_frames(mp4(frames=30, size=(200, 100)), max_frames=10, max_side=50)
    assert len(frames) == 10 and frames[0].size == (50, 25) and fps == 24.0
    gframes, gfps = image_frames(gif(frames=6, size=(300, 150)), 10**8, 4, max_side=60)
    assert len(gframes) == 4 and gframes[0].size == (60, 30) and abs(gfps - 10) < 0.01
