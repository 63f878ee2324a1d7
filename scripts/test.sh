#!/usr/bin/env bash
# Install (first time) and run the whole test suite against a private embedded Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m pytest -q "$@"
