#!/usr/bin/env bash
# The one prepared GPU run (a lent H200): the full-size bench, the table into bench/gpu_table.md.
# Budget: well inside 10 minutes (a hard 540 s limit); each step is logged with its elapsed time on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
py="${PYTHON:-.venv/bin/python}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
timeout 540 "$py" bench/gpu_arch.py --runs 2 --max-steps 8 --out bench/gpu_table.md "$@"
