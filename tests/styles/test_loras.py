"""LoRAs through PipelineSet: a LoRA changes the image (same seed), and nothing of it leaks into the next job."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import GenerationError
from core.generation.batch import batch_key
from core.generation.pipeline import PipelineSet
from core.styles.catalog import StyleError, lora_file
from core.types import GenerationRequest, JobKind, LoraUse, Requester

WHO = Requester(platform="web", user_id="u", chat_id="c")


def _request(*loras: LoraUse, kind: JobKind = JobKind.IMAGE) -> GenerationRequest:
    return GenerationRequest(requester=WHO, kind=kind, prompt="a fox in the snow", width=64, height=64, seed=7,
                             steps=2, loras=list(loras))


def _pixels(ps: PipelineSet, request: GenerationRequest) -> np.ndarray:
    [frame] = ps.generate(request, []).frames
    return np.asarray(frame, dtype=np.float64)


def test_a_lora_changes_the_image_and_does_not_leak(lora_pipelines: PipelineSet) -> None:
    ps = lora_pipelines
    baseline = _pixels(ps, _request())
    styled = _pixels(ps, _request(LoraUse(name="watercolor", weight=1.0)))
    assert np.abs(styled - baseline).mean() > 1.0  # measurably different, same seed
    after = _pixels(ps, _request())
    assert np.array_equal(after, baseline)  # the next job without it is the baseline exactly
    again = _pixels(ps, _request(LoraUse(name="watercolor", weight=1.0)))
    assert np.array_equal(again, styled)  # switched back on, not reloaded
    assert "watercolor" in ps.loras.loaded(ps.get(JobKind.IMAGE))


def test_weights_and_several_loras_are_per_job(lora_pipelines: PipelineSet) -> None:
    ps = lora_pipelines
    full = _pixels(ps, _request(LoraUse(name="watercolor", weight=1.0)))
    half = _pixels(ps, _request(LoraUse(name="watercolor", weight=0.5)))
    both = _pixels(ps, _request(LoraUse(name="watercolor", weight=1.0), LoraUse(name="ink", weight=1.0)))
    assert not np.array_equal(full, half) and not np.array_equal(full, both)
    assert np.array_equal(_pixels(ps, _request(LoraUse(name="watercolor", weight=1.0))), full)


def test_adapters_live_on_shared_modules_so_derived_pipelines_stay_clean(lora_pipelines: PipelineSet) -> None:
    # /edit's pipeline is derived with from_pipe: it shares the UNet, so a text-to-image LoRA job must not
    # leave anything switched on there either, and the switch knows the adapter is loaded for both.
    ps = lora_pipelines
    _pixels(ps, _request(LoraUse(name="ink", weight=1.0)))
    assert ps.loras.loaded(ps.get(JobKind.EDIT)) == ps.loras.loaded(ps.get(JobKind.IMAGE))
    loads = ps.loras.loads
    _pixels(ps, _request(LoraUse(name="ink", weight=1.0)))
    assert ps.loras.loads == loads


@pytest.mark.parametrize("name,says", [("missing", "Unknown LoRA 'missing'"), ("broken", "does not fit"),
                                       ("../watercolor", "not a file stem")])
def test_a_lora_that_cannot_load_is_a_job_error_naming_it(lora_pipelines: PipelineSet, name: str,
                                                          says: str) -> None:
    with pytest.raises(GenerationError, match="LoRA") as err:
        lora_pipelines.generate(_request(LoraUse(name=name, weight=1.0)), [])
    assert says in err.value.message
    baseline = _pixels(lora_pipelines, _request())
    assert np.array_equal(_pixels(lora_pipelines, _request()), baseline)


@pytest.mark.parametrize("name", ["..", "../x", "a/b", "/etc/passwd", "a\\b", "x.safetensors", "", ".hidden"])
def test_lora_names_are_file_stems_only(loras_dir: Path, name: str) -> None:
    with pytest.raises(StyleError):
        lora_file(loras_dir, name)
    assert lora_file(loras_dir, "watercolor") == loras_dir / "watercolor.safetensors"


def test_requests_with_different_loras_never_share_a_call() -> None:
    plain, styled = _request(), _request(LoraUse(name="watercolor", weight=0.8))
    assert batch_key(plain) != batch_key(styled)
    assert batch_key(styled) != batch_key(_request(LoraUse(name="watercolor", weight=0.5)))
    assert batch_key(styled) == batch_key(_request(LoraUse(name="watercolor", weight=0.8)))
