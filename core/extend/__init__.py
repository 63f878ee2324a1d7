"""Extend: a video result continued from its last frame(s) for a few more seconds, stitched into one clip.

`feature.py` declares the Extend button under video results; `request.py` builds the job (priced by the frames
it adds, the whole clip within `max_frames`); `soundtrack.py` carries the source's sound over. The worker side
is `core.generation.extend`.
"""

from core.extend.feature import extend_feature

__all__ = ["extend_feature"]
