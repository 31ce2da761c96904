#!/usr/bin/env bash
# Quick start, command 2 (and what CI runs): install everything the test suite needs,
# check the architecture contracts and lint, then run the whole suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/io -x`.
set -euo pipefail
source "$(dirname "$0")/_env.sh"
source "$(dirname "$0")/postgres.sh"

ensure_qt_libs
ensure_venv dev,gui,docs
# torch (CPU) runs the processors' array-API parity tests; 2.13.0 is the build pip finds
# on this project's machines. SEISPROC_TEST_TORCH=0 leaves it out (those tests then skip).
if [ "${SEISPROC_TEST_TORCH:-1}" != 0 ] && ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "torch==2.13.0"
fi

cd "$seisproc_root"
echo "== import contracts"
"$VENV/bin/lint-imports"
echo "== ruff"
"$VENV/bin/ruff" check src tests benchmarks
if [ -f mkdocs.yml ]; then
    echo "== documentation (mkdocs build --strict)"
    NO_MKDOCS_2_WARNING=1 "$VENV/bin/mkdocs" build --strict --quiet --site-dir "$(mktemp -d -t seisproc-site.XXXXXX)"
fi
echo "== PostgreSQL (a throwaway server for the job history's contract tests)"
trap stop_test_postgres EXIT
start_test_postgres || echo "PostgreSQL could not be started: its tests skip (and fail under CI=true)"
echo "== pytest"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
export SEISPROC_HOME="${SEISPROC_HOME:-$(mktemp -d -t seisproc-test-home.XXXXXX)}"
"$VENV/bin/python" -m pytest --durations=30 "$@"  # the slowest tests, to keep the suite under 20 min
