"""The GPU architecture bench stays runnable: `bench/gpu_arch.py --smoke` (same code, tiny, CPU) prints its table.

Only the table's shape is checked (a row per model, numbers in the timed columns); no timing is asserted.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODELS = ("sdxl", "sdxl-turbo", "flux-dev", "flux-schnell", "ltx-video-2b", "wan-2.1-1.3b")
NUMBER = re.compile(r"^~?\d+\.\d+†?$")


def test_smoke_run_prints_a_row_per_model_with_numbers(tmp_path: Path) -> None:
    out = tmp_path / "table.md"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_arch.py"), "--smoke", "--cache", "--out", str(out)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    text = out.read_text()
    assert "SMOKE RUN" in text and text in run.stdout
    header, *lines = [line for line in text.splitlines() if line.startswith("| ")]
    columns = [c.strip() for c in header.strip("|").split("|")]
    rows = {cells[0]: dict(zip(columns, cells, strict=True))
            for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines[1:])}
    assert set(rows) == set(MODELS)
    for name, row in rows.items():
        for column in ("eager s", "compiled s", "overhead"):
            assert NUMBER.match(row[column]), (name, column, row[column])
        is_image = name.startswith(("sdxl", "flux"))
        assert NUMBER.match(row["img/s b4"]) if is_image else row["img/s b4"] == "-", (name, row["img/s b4"])
    assert NUMBER.match(rows["flux-dev"]["FBC s"])  # the cache path runs, marked as not a measurement
    assert "not measured: random weights" in text
    assert re.search(r"flux-dev: [\d.e+-]+ TFLOP/step; floor", text)
    assert re.search(r"start-up \(sdxl, from safetensors\): cold load \+ first 1-step job \d", text)
