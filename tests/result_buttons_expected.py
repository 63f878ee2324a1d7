"""The buttons under a one-image and a video result, in order, as every adapter must show them (one list for all
the adapter tests: a feature that adds a button changes it here, once)."""

IMAGE_ACTIONS = ("upscale", "vary", "varyx", "reroll", "animate", "zoom_half", "zoom_double", "region", "pan_left",
                 "pan_right", "pan_up", "pan_down", "report", "copy", "edit", "delete")
IMAGE_LABELS = ["Upscale", "Variations", "Vary (strong)", "Reroll", "Animate", "Zoom out 1.5x", "Zoom out 2x",
                "Vary (Region)", "\u2b05", "\u27a1", "\u2b06", "\u2b07", "Report", "Copy", "Edit", "Delete"]
IMAGE_ROWS = [0] * 5 + [1] * 3 + [2] * 4 + [3] * 4
VIDEO_ACTIONS = ("vary", "reroll", "extend", "report", "copy", "edit", "delete")
VIDEO_LABELS = ["Variations", "Reroll", "Extend", "Report", "Copy", "Edit", "Delete"]
