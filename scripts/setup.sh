#!/usr/bin/env bash
# Create .venv and install Reelsmith with its test tools. Safe to re-run: it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# The playground's sign-in is tested in a real headless browser (tests/security). As root (CI) without one,
# install Debian's chromium; elsewhere that test is skipped with the reason.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    echo "Could not create a virtual environment. On Debian/Ubuntu run: sudo apt install python3-venv" >&2
    exit 1
  fi
fi
stamp=".venv/.reelsmith-installed-$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  # The CPU build of torch; set REELSMITH_TORCH to e.g. "torch==2.13.0 --index-url <cuda index>" for GPUs.
  .venv/bin/python -m pip install -q ${REELSMITH_TORCH:-torch==2.13.0}
  .venv/bin/python -m pip install -q -e ".[dev]"
  # Labelling tests compare our watermark with invisible-watermark; --no-deps so it cannot pull a CUDA torch.
  .venv/bin/python -m pip install -q --no-deps invisible-watermark==0.2.0
  rm -f .venv/.reelsmith-installed-*
  touch "$stamp"
fi
