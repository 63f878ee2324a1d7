"""Several images per prompt (`--n 1..4`, a per-chat default moderators set) and the buttons that act on one image
of a result: U1..U4 upscale it 2x, V1..V4 vary it subtly, S1..S4 vary it strongly.

Modules: `defaults` (the chat's default number of images and its command step), `derive` (new requests from one
image of a result), `feature` (the actions, buttons and `/images` command), `labels` (per-image captions),
`grid` (several images as one 2x2 grid), `provenance` (a record per image with its seed).
"""

from core.variants.feature import variants_feature
from core.variants.grid import grid_image
from core.variants.labels import image_caption, image_captions

__all__ = ["grid_image", "image_caption", "image_captions", "variants_feature"]
