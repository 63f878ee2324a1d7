#!/usr/bin/env bash
# Install (first time) and run everything: embedded Redis, a worker with the tiny models, the playground,
# and the Discord/Telegram bots whose tokens are set. Open http://127.0.0.1:8080/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/reelsmith run "$@"
