"""Zoom out, Pan and Vary (Region): inpainting on a canvas through the model family's inpaint pipeline.

A zoom-out or pan builds a larger canvas with the result placed on it and a mask of the new area (white:
draw); Vary (Region) takes a member's black and white mask. Either becomes one `JobKind.INPAINT` job whose
references are the canvas and the mask; the worker draws the white area and pastes the rest back exactly.
"""
