"""deploy/gpu-workers.sh: one worker process per GPU, each seeing only its GPU, with its own name and port.

The launcher runs for real with a stand-in for `reelsmith` (REELSMITH_BIN) that writes down the environment it
was started with, and with a stand-in `nvidia-smi` listing the GPUs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "deploy" / "gpu-workers.sh"

# The trap is set before the record is written: the test sends SIGTERM once it sees every record, and a
# record written first let a loaded machine deliver it before the worker could answer it.
RECORDER = """#!/usr/bin/env bash
[[ -n "${STAY:-}" ]] && trap 'echo stopped > "$OUT/stopped-$CUDA_VISIBLE_DEVICES"; exit 0' TERM
echo "$CUDA_VISIBLE_DEVICES $REELSMITH_DEVICE $REELSMITH_WORKER_NAME $REELSMITH_HEALTH_PORT $REDIS_URL" \\
  "${REELSMITH_WORKER_MODELS:-all} $*" > "$OUT/worker-$CUDA_VISIBLE_DEVICES.txt"
if [[ -n "${STAY:-}" ]]; then
  while :; do sleep 0.05; done
fi
[[ "$CUDA_VISIBLE_DEVICES" == "${FAIL_ON:-none}" ]] && exit 3
exit 0
"""


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "reelsmith-fake"
    fake.write_text(RECORDER)
    fake.chmod(0o755)
    smi = bin_dir / "nvidia-smi"
    smi.write_text("#!/usr/bin/env bash\nprintf '0\\n1\\n2\\n'\n")  # what --query-gpu=index prints
    smi.chmod(0o755)
    out = tmp / "out"
    out.mkdir(exist_ok=True)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "OUT": str(out), "REELSMITH_BIN": str(fake),
            "WORKER_PREFIX": "box", "REDIS_URL": "redis://shared:6379/0", **extra}


def _records(tmp: Path) -> dict[str, list[str]]:
    return {p.stem.removeprefix("worker-"): p.read_text().split() for p in sorted((tmp / "out").glob("worker-*"))}


def test_one_worker_per_listed_gpu_each_seeing_only_its_own_and_its_pinned_models(tmp_path: Path) -> None:
    env = _env(tmp_path, WORKER_MODELS_GPU1='["wan-i2v"]')
    done = subprocess.run(["bash", str(LAUNCHER)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    pinned = {"1": '["wan-i2v"]'}  # GPU 1's worker keeps only its own model; the others every model
    assert _records(tmp_path) == {
        i: [i, "cuda", f"box-gpu{i}", str(9464 + int(i)), "redis://shared:6379/0", pinned.get(i, "all"), "worker"]
        for i in ("0", "1", "2")}


def test_gpus_chooses_dry_run_starts_nothing_and_a_failing_worker_is_reported(tmp_path: Path) -> None:
    env = _env(tmp_path, GPUS="1 2", HEALTH_PORT_BASE="9500")
    dry = subprocess.run(["bash", str(LAUNCHER), "--dry-run"], env=env, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0 and _records(tmp_path) == {}
    assert dry.stdout.splitlines() == [
        f"CUDA_VISIBLE_DEVICES={i} REELSMITH_DEVICE=cuda REELSMITH_WORKER_NAME=box-gpu{i} "
        f"REELSMITH_HEALTH_PORT={9500 + i} {env['REELSMITH_BIN']} worker" for i in (1, 2)]
    failing = subprocess.run(["bash", str(LAUNCHER)], env={**env, "FAIL_ON": "2"}, capture_output=True, text=True,
                             timeout=60)
    assert failing.returncode == 3  # GPU 2's worker failed; GPU 1's ran all the same
    assert sorted(_records(tmp_path)) == ["1", "2"]


def test_without_nvidia_smi_or_gpus_it_says_what_to_set(tmp_path: Path) -> None:
    env = {**_env(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(["bash", str(LAUNCHER)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and 'set GPUS="0 1 ..."' in done.stderr and _records(tmp_path) == {}


def test_sigterm_stops_every_worker(tmp_path: Path) -> None:
    env = _env(tmp_path, GPUS="0 1", STAY="1")
    launcher = subprocess.Popen(["bash", str(LAUNCHER)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60  # a bound for a loaded machine, not a speed check
        while len(_records(tmp_path)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(_records(tmp_path)) == ["0", "1"]
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=60) == 0  # each worker finished cleanly, so the launcher did too
        assert sorted(p.name for p in (tmp_path / "out").glob("stopped-*")) == ["stopped-0", "stopped-1"]
    finally:
        if launcher.poll() is None:
            os.kill(launcher.pid, signal.SIGKILL)


# The first worker asks its launcher to stop as it starts, so the stop lands while later ones are being started.
STOPPER = """#!/usr/bin/env bash
echo $$ > "$OUT/pid-$CUDA_VISIBLE_DEVICES"
trap 'exit 0' TERM
launcher=$PPID
until grep -q gpu-workers.sh "/proc/$launcher/cmdline" 2>/dev/null; do
  launcher=$(awk '{print $4}' "/proc/$launcher/stat")
done
[[ "$CUDA_VISIBLE_DEVICES" == 0 ]] && kill -TERM "$launcher"
while :; do sleep 0.05; done
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_stop_while_workers_start_stops_every_started_one(tmp_path: Path) -> None:
    env = _env(tmp_path, GPUS=" ".join(str(i) for i in range(40)))
    Path(env["REELSMITH_BIN"]).write_text(STOPPER)
    launcher = subprocess.Popen(["bash", str(LAUNCHER)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        launcher.wait(timeout=60)  # once every started worker has finished: none was left without the stop
        pids = [int(p.read_text()) for p in (tmp_path / "out").glob("pid-*") if p.read_text().strip()]
        assert pids and not [pid for pid in pids if _alive(pid)]
    finally:
        if launcher.poll() is None:
            os.kill(launcher.pid, signal.SIGKILL)
        for p in (tmp_path / "out").glob("pid-*"):
            if p.read_text().strip() and _alive(int(p.read_text())):
                os.kill(int(p.read_text()), signal.SIGKILL)
