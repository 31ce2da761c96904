#!/usr/bin/env bash
# Quick start, command 1: install seisproc into .venv and run the demo job end to end
# (synthetic survey -> bandpass + AGC flow -> processed SEG-Y), on embedded defaults.
set -euo pipefail
source "$(dirname "$0")/_env.sh"
ensure_venv ""
exec "$VENV/bin/seisproc" demo "$@"
