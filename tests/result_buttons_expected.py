"""The buttons under a one-image and a video result, in order, as every adapter must show them (one list for all
the adapter tests: a feature that adds a button changes it here, once)."""

IMAGE_ACTIONS = ("upscale", "vary", "varyx", "reroll", "animate", "report", "copy", "edit", "delete")
IMAGE_LABELS = ["Upscale", "Variations", "Vary (strong)", "Reroll", "Animate", "Report", "Copy", "Edit", "Delete"]
VIDEO_ACTIONS = ("vary", "reroll", "extend", "report", "copy", "edit", "delete")
VIDEO_LABELS = ["Variations", "Reroll", "Extend", "Report", "Copy", "Edit", "Delete"]
