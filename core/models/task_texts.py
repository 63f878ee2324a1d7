"""Whole sentences about what a task needs, one per task, so each translates as a sentence (no verb phrase
is glued into another language's grammar). Marked with `N_`; shown with `translate(...).format(...)`."""

from __future__ import annotations

from core.i18n import N_
from core.models.tasks import Task

# No model this member may use serves the task: {reasons} says why each one that does is out of reach.
NONE_USABLE: dict[Task, str] = {
    Task.TEXT_TO_IMAGE: N_("No model you may use here can make a picture from text: {reasons}."),
    Task.IMAGE_TO_IMAGE: N_("No model you may use here can change a picture: {reasons}."),
    Task.INPAINT: N_("No model you may use here can repaint part of a picture: {reasons}."),
    Task.UPSCALE: N_("No model you may use here can upscale a picture: {reasons}."),
    Task.TEXT_TO_VIDEO: N_("No model you may use here can make a video from text: {reasons}."),
    Task.IMAGE_TO_VIDEO: N_("No model you may use here can animate a picture: {reasons}."),
    Task.VIDEO_TO_VIDEO: N_("No model you may use here can restyle a video: {reasons}."),
    Task.AUDIO_VIDEO: N_("No model you may use here can make a video with its soundtrack: {reasons}."),
}

# The named model does not serve the task ({model} is quoted, {task} the task's name).
CANT: dict[Task, str] = {
    Task.TEXT_TO_IMAGE: N_("The model {model} can't make a picture from text ({task})."),
    Task.IMAGE_TO_IMAGE: N_("The model {model} can't change a picture ({task})."),
    Task.INPAINT: N_("The model {model} can't repaint part of a picture ({task})."),
    Task.UPSCALE: N_("The model {model} can't upscale a picture ({task})."),
    Task.TEXT_TO_VIDEO: N_("The model {model} can't make a video from text ({task})."),
    Task.IMAGE_TO_VIDEO: N_("The model {model} can't animate a picture ({task})."),
    Task.VIDEO_TO_VIDEO: N_("The model {model} can't restyle a video ({task})."),
    Task.AUDIO_VIDEO: N_("The model {model} can't make a video with its soundtrack ({task})."),
}

# The service's models of that kind serve other tasks: what to add.
SERVERS_CANT: dict[Task, str] = {
    Task.TEXT_TO_IMAGE: N_("This server's image model can't make a picture from text; "
                          "an owner can add a text-to-image model (see /models)."),
    Task.IMAGE_TO_IMAGE: N_("This server's image model can't change a picture; an owner "
                           "can add an image-to-image model (see /models)."),
    Task.INPAINT: N_("This server's image model can't repaint part of a picture; "
                    "an owner can add an inpaint model (see /models)."),
    Task.UPSCALE: N_("This server's image model can't upscale a picture; an owner "
                    "can add an upscale model (see /models)."),
    Task.TEXT_TO_VIDEO: N_("This server's video model can't make a video from text; an "
                          "owner can add a text-to-video model (see /models)."),
    Task.IMAGE_TO_VIDEO: N_("This server's video model can't animate a picture; an owner "
                           "can add an image-to-video model (see /models)."),
    Task.VIDEO_TO_VIDEO: N_("This server's video model can't restyle a video; an owner "
                           "can add a video-to-video model (see /models)."),
    Task.AUDIO_VIDEO: N_("This server's video model can't make a video with its "
                        "soundtrack; an owner can add an audio+video model (see /models)."),
}

# The service has no model of that kind at all.
NO_MODEL_OF_KIND: dict[Task, str] = {
    Task.TEXT_TO_IMAGE: N_("This server has no image model; an owner can add a text-to-image model (see /models)."),
    Task.IMAGE_TO_IMAGE: N_("This server has no image model; an owner can add an "
                           "image-to-image model (see /models)."),
    Task.INPAINT: N_("This server has no image model; an owner can add an inpaint model (see /models)."),
    Task.UPSCALE: N_("This server has no image model; an owner can add an upscale model (see /models)."),
    Task.TEXT_TO_VIDEO: N_("This server has no video model; an owner can add a text-to-video model (see /models)."),
    Task.IMAGE_TO_VIDEO: N_("This server has no video model; an owner can add an "
                           "image-to-video model (see /models)."),
    Task.VIDEO_TO_VIDEO: N_("This server has no video model; an owner can add a video-to-video model (see /models)."),
    Task.AUDIO_VIDEO: N_("This server has no video model; an owner can add an audio+video model (see /models)."),
}

# The worker's pipeline for the model does not serve the task (the catalog changed meanwhile).
PIPELINE_CANT: dict[Task, str] = {
    Task.TEXT_TO_IMAGE: N_("The model {model} cannot make a picture from text. Choose "
                          "another with --model (see /models)."),
    Task.IMAGE_TO_IMAGE: N_("The model {model} cannot change a picture. Choose another with --model (see /models)."),
    Task.INPAINT: N_("The model {model} cannot repaint part of a picture. Choose "
                    "another with --model (see /models)."),
    Task.UPSCALE: N_("The model {model} cannot upscale a picture. Choose another with --model (see /models)."),
    Task.TEXT_TO_VIDEO: N_("The model {model} cannot make a video from text. Choose "
                          "another with --model (see /models)."),
    Task.IMAGE_TO_VIDEO: N_("The model {model} cannot animate a picture. Choose another with --model (see /models)."),
    Task.VIDEO_TO_VIDEO: N_("The model {model} cannot restyle a video. Choose another with --model (see /models)."),
    Task.AUDIO_VIDEO: N_("The model {model} cannot make a video with its soundtrack. "
                        "Choose another with --model (see /models)."),
}

# The worker has no model that serves the task any more.
NO_PIPELINE_FOR: dict[Task, str] = {
    Task.TEXT_TO_IMAGE: N_("This server has no model that can make a picture from text; "
                          "ask an owner, or see /models."),
    Task.IMAGE_TO_IMAGE: N_("This server has no model that can change a picture; ask an owner, or see /models."),
    Task.INPAINT: N_("This server has no model that can repaint part of a picture; ask an owner, or see /models."),
    Task.UPSCALE: N_("This server has no model that can upscale a picture; ask an owner, or see /models."),
    Task.TEXT_TO_VIDEO: N_("This server has no model that can make a video from text; ask an owner, or see /models."),
    Task.IMAGE_TO_VIDEO: N_("This server has no model that can animate a picture; ask an owner, or see /models."),
    Task.VIDEO_TO_VIDEO: N_("This server has no model that can restyle a video; ask an owner, or see /models."),
    Task.AUDIO_VIDEO: N_("This server has no model that can make a video with its "
                        "soundtrack; ask an owner, or see /models."),
}
