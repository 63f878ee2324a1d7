"""The video families' tiny twins: each builds, loads as its kind's class, runs every task the kind claims
(single and, for text-to-video, a batch of two), and is told from its JSON files alone (`detect`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import diffusers
import pytest
import torch
from PIL import Image

from core.generation.calls import video_call
from core.generation.twins import build_twin, twins
from core.models import FAMILIES, Task
from core.models.detect import detect

VIDEO_TWINS = ("wan-2.1-t2v", "wan-2.1-i2v", "wan-2.2-ti2v", "cogvideox-t2v", "cogvideox-i2v",
               "hunyuanvideo-t2v", "hunyuanvideo-i2v")
CASES = [(name, task) for name in VIDEO_TWINS
         for task in sorted(FAMILIES[twins()[name].family].checkpoint(twins()[name].kind).tasks)]
SIZE, FRAMES = 32, 9


@pytest.fixture(scope="module")
def twin_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("video-twins")
    for name in VIDEO_TWINS:
        build_twin(root, name)
    return root


@pytest.fixture(scope="module")
def bases(twin_root: Path) -> dict[str, Any]:
    """Each twin loaded once as its kind's class, the way production loads a checkpoint."""
    loaded: dict[str, Any] = {}
    for name in VIDEO_TWINS:
        spec = twins()[name]
        loader = FAMILIES[spec.family].checkpoint(spec.kind).loader
        loaded[name] = getattr(diffusers, loader).from_pretrained(twin_root / name)
        loaded[name].set_progress_bar_config(disable=True)
    return loaded


def _pipe_for(base: Any, cls: str) -> Any:
    if type(base).__name__ == cls:
        return base
    pipe = getattr(diffusers, cls).from_pipe(base)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _run(twin_root: Path, name: str, pipe: Any, prompts: list[str], image: bool) -> Any:
    call: dict[str, Any] = dict(
        prompt=prompts, negative_prompt=None, num_inference_steps=2, num_frames=FRAMES, width=SIZE, height=SIZE,
        generator=[torch.Generator().manual_seed(i) for i in range(len(prompts))], output_type="np",
    )
    if image:
        call["image"] = Image.new("RGB", (SIZE, SIZE), (200, 40, 40))
    call, _notes = video_call(pipe, detect(twin_root / name), call)
    with torch.inference_mode():
        return pipe(**call).frames


def test_every_video_family_kind_has_a_twin() -> None:
    declared = {(f.name, c.kind) for f in FAMILIES.values() if f.name in {"wan", "cogvideox", "hunyuanvideo"}
                for c in f.checkpoints}
    assert {(twins()[n].family, twins()[n].kind) for n in VIDEO_TWINS} == declared


@pytest.mark.parametrize(("name", "task"), CASES, ids=[f"{n}:{t}" for n, t in CASES])
def test_every_claimed_task_runs(twin_root: Path, bases: dict[str, Any], name: str, task: Task) -> None:
    spec = twins()[name]
    base = bases[name]
    assert type(base).__name__ == FAMILIES[spec.family].checkpoint(spec.kind).loader
    pipe = _pipe_for(base, FAMILIES[spec.family].checkpoint(spec.kind).pipelines[task])
    frames = _run(twin_root, name, pipe, ["a red fox"], image=task == Task.IMAGE_TO_VIDEO)
    assert frames.shape == (1, FRAMES, SIZE, SIZE, 3)  # HunyuanVideo I2V's dropped frames made up for
    if pipe is not base:
        assert pipe.transformer is base.transformer  # from_pipe shares the weights


@pytest.mark.parametrize("name", [n for n, t in CASES if t == Task.TEXT_TO_VIDEO])
def test_text_to_video_batches_two_prompts(twin_root: Path, bases: dict[str, Any], name: str) -> None:
    frames = _run(twin_root, name, bases[name], ["a red fox", "a blue owl"], image=False)
    assert frames.shape == (2, FRAMES, SIZE, SIZE, 3)


def test_wan_21_t2v_does_not_claim_image_to_video(bases: dict[str, Any]) -> None:
    wan = FAMILIES["wan"]
    assert wan.checkpoint("t2v").tasks == {Task.TEXT_TO_VIDEO}
    assert wan.checkpoint("i2v").tasks == {Task.IMAGE_TO_VIDEO}
    assert wan.checkpoint("ti2v").tasks == {Task.TEXT_TO_VIDEO, Task.IMAGE_TO_VIDEO}
    # The reported defect, kept as proof the claim was wrong: a T2V transformer cannot take I2V latents.
    pipe = _pipe_for(bases["wan-2.1-t2v"], "WanImageToVideoPipeline")
    with pytest.raises(RuntimeError, match="channels"):
        pipe(image=Image.new("RGB", (SIZE, SIZE)), prompt="a fox", num_inference_steps=1, num_frames=5,
             width=SIZE, height=SIZE, output_type="np")


@pytest.mark.parametrize("name", VIDEO_TWINS)
def test_detect_tells_the_kind_from_json(twin_root: Path, name: str) -> None:
    spec = twins()[name]
    family = FAMILIES[spec.family]
    assert detect(twin_root / name) == (family, family.checkpoint(spec.kind))


def test_detect_knows_nothing_of_an_unknown_folder(tmp_path: Path) -> None:
    assert detect(tmp_path) is None
    (tmp_path / "model_index.json").write_text('{"_class_name": "MochiPipeline"}')
    assert detect(tmp_path) is None


def test_a_wan_pipeline_without_the_ti2v_vae_is_t2v(tmp_path: Path) -> None:
    (tmp_path / "model_index.json").write_text('{"_class_name": "WanPipeline"}')
    (tmp_path / "vae").mkdir()
    (tmp_path / "vae" / "config.json").write_text('{"z_dim": 16}')
    found = detect(tmp_path)
    assert found is not None and found[1].kind == "t2v"
    (tmp_path / "vae" / "config.json").write_text('{"z_dim": 48}')
    found = detect(tmp_path)
    assert found is not None and found[1].kind == "ti2v"


@pytest.mark.parametrize("name", VIDEO_TWINS)
def test_the_catalog_reads_the_same_kind(twin_root: Path, name: str) -> None:
    from core.models import catalog

    assert catalog.detect(str(twin_root / name)) == detect(twin_root / name)
