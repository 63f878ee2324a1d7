"""Every image twin loads through `from_pretrained`, derives each task of its checkpoint kind with `from_pipe`
(sharing weights), and runs each task single and batched through the family's call rules (`calls.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import diffusers
import pytest
import torch
from PIL import Image

from core.generation.calls import TRUE_CFG_SCALE, accepted, family_call, family_of_pipeline, for_pipeline
from core.generation.twins import build_twin, twins
from core.models import FAMILIES, Family, Task

# Text-to-image families (the upscaler's twin has its own tests: tests/generation/test_upscale.py).
IMAGE_TWINS = sorted(name for name, spec in twins().items()
                     if not FAMILIES[spec.family].is_video and Task.TEXT_TO_IMAGE in FAMILIES[spec.family].tasks)
WIDTH, HEIGHT = 48, 32


@pytest.fixture(scope="module")
def twin_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("image-twins")


def _generic_call(task: Task, prompts: list[str], negative: str = "") -> dict[str, Any]:
    """The call `PipelineSet` builds before the family's rules (edits carry the image, not a size)."""
    call: dict[str, Any] = dict(
        prompt=prompts, negative_prompt=[negative] * len(prompts) if negative else None, num_inference_steps=2,
        generator=[torch.Generator().manual_seed(i) for i in range(len(prompts))],
    )
    if task == Task.IMAGE_TO_IMAGE:
        call.update(image=[Image.new("RGB", (WIDTH, HEIGHT), (200, 40, 40))] * len(prompts), strength=0.6)
    elif task == Task.INPAINT:  # the canvas, white where the model repaints, and its size
        mask = Image.new("L", (WIDTH, HEIGHT), 0)
        mask.paste(255, (0, 0, WIDTH // 2, HEIGHT))
        call.update(image=[Image.new("RGB", (WIDTH, HEIGHT), (200, 40, 40))] * len(prompts),
                    mask_image=[mask] * len(prompts), width=WIDTH, height=HEIGHT, strength=1.0)
    else:
        call.update(width=WIDTH, height=HEIGHT)
    return call


def _weights(pipe: Any) -> Any:
    return getattr(pipe, "transformer", None) or pipe.unet


def test_the_image_families_have_twins() -> None:
    assert {"sd", "sdxl", "sd3", "flux", "flux-kontext"} <= set(IMAGE_TWINS)


@pytest.mark.parametrize("name", IMAGE_TWINS)
def test_twin_runs_every_task_single_and_batched(twin_root: Path, name: str) -> None:
    spec = twins()[name]
    checkpoint = FAMILIES[spec.family].checkpoint(spec.kind)
    base = getattr(diffusers, checkpoint.loader).from_pretrained(build_twin(twin_root, name))
    assert type(base).__name__ == checkpoint.loader
    for task, cls in checkpoint.pipelines.items():
        pipe = getattr(diffusers, cls).from_pipe(base)
        pipe.set_progress_bar_config(disable=True)
        assert type(pipe).__name__ == cls and _weights(pipe) is _weights(base)  # shared, not copied
        for prompts in (["a red fox"], ["a red fox", "a blue boat"]):
            with torch.inference_mode():
                out = pipe(**for_pipeline(pipe, task, _generic_call(task, prompts, negative="blurry")))
            assert [image.size for image in out.images] == [(WIDTH, HEIGHT)] * len(prompts), (task, len(prompts))


def test_every_family_has_a_twin_for_each_checkpoint_kind() -> None:
    covered = {(spec.family, spec.kind) for spec in twins().values()}
    missing = {(f.name, c.kind) for f in FAMILIES.values() for c in f.checkpoints} - covered
    assert missing == set()  # a family without a twin is not advertised


def test_pipelines_find_their_family() -> None:
    assert family_of_pipeline("FluxKontextPipeline") is FAMILIES["flux"]
    assert family_of_pipeline("StableDiffusionXLImg2ImgPipeline") is FAMILIES["sdxl"]
    assert family_of_pipeline("StableDiffusion3Pipeline") is FAMILIES["sd3"]
    assert family_of_pipeline("MochiPipeline") is None


FLUX_ARGS = {"prompt", "negative_prompt", "true_cfg_scale", "guidance_scale", "width", "height", "image",
             "strength", "max_sequence_length", "num_inference_steps"}


def test_flux_negative_prompts_run_true_cfg_and_guidance_is_its_default() -> None:
    flux = FAMILIES["flux"]
    call = family_call(flux, Task.TEXT_TO_IMAGE, _generic_call(Task.TEXT_TO_IMAGE, ["x"], "blurry"), FLUX_ARGS)
    assert call["negative_prompt"] == ["blurry"] and call["true_cfg_scale"] == TRUE_CFG_SCALE
    assert call["guidance_scale"] == 3.5 and call["max_sequence_length"] == 512
    plain = family_call(flux, Task.TEXT_TO_IMAGE, _generic_call(Task.TEXT_TO_IMAGE, ["x"]), FLUX_ARGS)
    assert "negative_prompt" not in plain and "true_cfg_scale" not in plain
    # A model's own guidance (schnell: 0) wins over the family default.
    assert family_call(flux, Task.TEXT_TO_IMAGE, {"guidance_scale": 0.0}, FLUX_ARGS)["guidance_scale"] == 0.0


def test_a_family_without_negative_conditioning_drops_it() -> None:
    bare = Family(name="bare", title="bare", is_video=False, checkpoints=(), negative_prompt=False, guidance=None)
    call = family_call(bare, Task.TEXT_TO_IMAGE, {"negative_prompt": ["no"], "guidance_scale": 2.0}, FLUX_ARGS)
    assert call == {}


def test_only_arguments_the_pipeline_takes_are_passed() -> None:
    sdxl_edit = {"prompt", "image", "strength", "negative_prompt", "guidance_scale"}
    call = family_call(FAMILIES["sdxl"], Task.IMAGE_TO_IMAGE,
                       _generic_call(Task.IMAGE_TO_IMAGE, ["x"]) | {"frame_rate": 24}, sdxl_edit)
    assert set(call) == {"prompt", "image", "strength"}  # no size (SDXL edits keep the image's), no None negative
    # An edit by a pipeline that draws at a size of its own is told the image's; Kontext keeps it.
    kontext = accepted(diffusers.FluxKontextPipeline)
    assert kontext is not None and "strength" not in kontext
    edit = family_call(FAMILIES["flux"], Task.IMAGE_TO_IMAGE, _generic_call(Task.IMAGE_TO_IMAGE, ["x"]), kontext)
    size = (edit["width"], edit["height"], edit["max_area"], edit["_auto_resize"])
    assert size == (WIDTH, HEIGHT, WIDTH * HEIGHT, False)
    assert "strength" not in edit


def test_a_pipeline_taking_any_keyword_gets_everything() -> None:
    class Anything:
        def __call__(self, **kwargs: Any) -> None:
            pass

    assert accepted(Anything()) is None
    call = for_pipeline(Anything(), Task.TEXT_TO_IMAGE, {"frame_rate": 24, "negative_prompt": None})
    assert call == {"frame_rate": 24}
