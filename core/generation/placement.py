"""Where and how a pipeline runs: device, dtype, and the VRAM/speed trade-offs from settings (README, GPU path)."""

from __future__ import annotations

from typing import Any

from core.settings import Settings


def resolve_device(setting: str) -> str:
    """The torch device for a `device` setting ("auto": CUDA when there is one, else the CPU)."""
    import torch

    if setting != "auto":
        return setting
    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def resolve_dtype(setting: str, device: str) -> Any:
    """The torch dtype for a `dtype` setting ("auto": bfloat16 on CUDA, float32 elsewhere)."""
    import torch

    if setting == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    return getattr(torch, setting)


def place(pipe: Any, settings: Settings, device: str) -> dict[str, object]:
    """Put a freshly loaded pipeline on `device` with the configured offloading, VAE tiling/slicing and
    compilation; returns the options applied."""
    s = settings
    if s.cpu_offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif s.cpu_offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    else:
        pipe.to(device)
    vae = getattr(pipe, "vae", None)
    if s.vae_tiling and vae is not None and hasattr(vae, "enable_tiling"):
        vae.enable_tiling()
    if s.vae_slicing and vae is not None and hasattr(vae, "enable_slicing"):
        vae.enable_slicing()
    if s.torch_compile:
        import torch

        for name in ("unet", "transformer"):
            module = getattr(pipe, name, None)
            if module is not None:
                setattr(pipe, name, torch.compile(module, mode="max-autotune-no-cudagraphs"))
    return {"cpu_offload": s.cpu_offload, "vae_tiling": s.vae_tiling, "vae_slicing": s.vae_slicing,
            "torch_compile": s.torch_compile}
