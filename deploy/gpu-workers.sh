#!/usr/bin/env bash
# One Reelsmith worker process per GPU on this machine: worker i sees only GPU i (CUDA_VISIBLE_DEVICES=i, so
# it runs on "cuda" = that GPU), has its own name (REELSMITH_WORKER_NAME=<prefix>-gpu<i>, in logs, metrics and
# job records) and its own health port (REELSMITH_HEALTH_PORT = base + i). Every other setting (REDIS_URL,
# models, queue) comes from the environment, the same for all. Stops all of them on Ctrl-C / SIGTERM.
#
#   REDIS_URL=redis://... deploy/gpu-workers.sh            # every GPU nvidia-smi lists
#   GPUS="0 2" deploy/gpu-workers.sh                       # only these
#   REELSMITH_BIN=.venv/bin/reelsmith WORKER_PREFIX=box2 HEALTH_PORT_BASE=9500 deploy/gpu-workers.sh
#   GPUS="0 1" deploy/gpu-workers.sh --dry-run             # print what would start, start nothing
#   WORKER_MODELS_GPU1='["wan-i2v"]' deploy/gpu-workers.sh  # GPU 1's worker keeps only that catalog model
#                                                          # (its REELSMITH_WORKER_MODELS); the others as set
set -euo pipefail

dry_run=0
case "${1:-}" in
  --dry-run) dry_run=1 ;;
  "") ;;
  *) echo "usage: gpu-workers.sh [--dry-run]  (settings come from the environment)" >&2; exit 2 ;;
esac

bin="${REELSMITH_BIN:-reelsmith}"
prefix="${WORKER_PREFIX:-$(hostname)}"
port_base="${HEALTH_PORT_BASE:-9464}"
if [[ -z "${GPUS:-}" ]]; then
  if ! command -v nvidia-smi >/dev/null; then
    echo "gpu-workers.sh: nvidia-smi not found; set GPUS=\"0 1 ...\" to say which GPUs to use." >&2
    exit 2
  fi
  GPUS="$(nvidia-smi --query-gpu=index --format=csv,noheader | tr '\n' ' ')"
fi
[[ -n "${GPUS// /}" ]] || { echo "gpu-workers.sh: no GPU found; set GPUS." >&2; exit 2; }

pids=()
stopping=0
stop() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; }
# A stop can come while workers are still starting: the trap runs between two commands, so a worker forked just
# before it is not in pids yet. Start no more after a stop, and stop again once every started one is listed.
trap 'stopping=1; stop' INT TERM
for i in $GPUS; do
  (( stopping )) && break
  vars=("CUDA_VISIBLE_DEVICES=$i" "REELSMITH_DEVICE=cuda" "REELSMITH_WORKER_NAME=${prefix}-gpu${i}"
        "REELSMITH_HEALTH_PORT=$((port_base + i))")
  pin="WORKER_MODELS_GPU$i"
  [[ -n "${!pin:-}" ]] && vars+=("REELSMITH_WORKER_MODELS=${!pin}")
  if (( dry_run )); then
    echo "${vars[*]} $bin worker"
    continue
  fi
  env "${vars[@]}" "$bin" worker &
  pids+=("$!")
  echo "gpu-workers.sh: worker ${prefix}-gpu${i} on GPU $i (pid $!, health port $((port_base + i)))"
done
(( dry_run )) && exit 0
(( stopping )) && stop
# Wait for all; a worker that exits (e.g. a bad setting) leaves the others running, and its status is reported.
# A stop (Ctrl-C, SIGTERM) interrupts `wait`: wait again until that worker has really finished its jobs.
status=0
for pid in "${pids[@]}"; do
  while :; do
    wait "$pid" && rc=0 || rc=$?
    (( rc > 128 )) && kill -0 "$pid" 2>/dev/null && continue
    break
  done
  (( rc == 0 )) || status=$rc
done
exit "$status"
