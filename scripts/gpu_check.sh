#!/usr/bin/env bash
# The GPU check in one command, on a machine with a GPU: a CUDA (or MPS) build of torch in
# the venv (installed if the one there cannot use the GPU), the GPU tests (tests/gpu: every
# processor's parity on the device through the job path, batching and memory, CUDA on
# Ray), then benchmarks/gpu_throughput.py on the 1.58 GB survey, and one table of both.
#
#   bash scripts/gpu_check.sh
#   SEISPROC_GPU_CHECK_SHOTS=48 bash scripts/gpu_check.sh      # a quicker run (23,040 traces)
#
# SEISPROC_TORCH_INDEX: where pip finds CUDA torch (default: PyTorch's CUDA 12.6 wheels;
# cu118 for an older driver). SEISPROC_GPU_CHECK_DIR: where the survey, the test log and
# the JSON report go (a new temporary folder by default). Exit status: 0 when the tests
# pass and the 20x target is met, 1 otherwise, 2 when torch cannot use the GPU. Without a
# GPU it says so and exits 0: there is nothing to check.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SEISPROC_VENV:-$root/.venv}"
PY="$VENV/bin/python"
shots="${SEISPROC_GPU_CHECK_SHOTS:-400}"
index="${SEISPROC_TORCH_INDEX:-https://download.pytorch.org/whl/cu126}"

kind=""
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
    kind=cuda
elif [ "$(uname -s)" = Darwin ] && [ "$(uname -m)" = arm64 ]; then
    kind=mps
fi
if [ -z "$kind" ]; then
    echo "gpu_check: no GPU on this machine (nvidia-smi lists none; not Apple silicon):" \
        "nothing to check, nothing installed."
    echo "gpu_check: run it where there is an NVIDIA GPU with its driver, or on an Apple" \
        "silicon Mac. Without a GPU, 'python -m pytest tests/gpu' runs the same code on" \
        "torch's CPU device."
    exit 0
fi
if [ ! -x "$PY" ]; then
    echo "gpu_check: no virtual environment at $VENV: run 'bash scripts/test.sh' first" \
        "(or set SEISPROC_VENV)" >&2
    exit 2
fi

torch_uses() {  # whether the venv's torch can run a kernel on device $1
    "$PY" - "$1" <<'PY' >/dev/null 2>&1
import sys
import torch
kind = sys.argv[1]
ok = torch.cuda.is_available() if kind == "cuda" else torch.backends.mps.is_available()
if ok:
    (torch.ones(4, device=kind) * 2).sum().item()
sys.exit(0 if ok else 1)
PY
}

if ! torch_uses "$kind"; then
    if [ "$kind" = cuda ]; then
        echo "gpu_check: the venv's torch cannot use the GPU; installing a CUDA build ($index)"
        "$PY" -m pip install -q --disable-pip-version-check --upgrade --index-url "$index" torch
    else
        echo "gpu_check: the venv's torch cannot use MPS; installing torch"
        "$PY" -m pip install -q --disable-pip-version-check --upgrade torch
    fi
    if ! torch_uses "$kind"; then
        echo "gpu_check: torch still cannot use the $kind device: check the driver" \
            "(nvidia-smi) against the wheel's CUDA version, or set SEISPROC_TORCH_INDEX" >&2
        exit 2
    fi
fi

out="${SEISPROC_GPU_CHECK_DIR:-$(mktemp -d -t seisproc-gpu-check.XXXXXX)}"
mkdir -p "$out"
cd "$root"
echo "gpu_check: GPU tests (log: $out/gpu-tests.log)"
tests_rc=0
QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" "$PY" -m pytest tests/gpu -q \
    -p no:cacheprovider --junitxml="$out/gpu-tests.xml" >"$out/gpu-tests.log" 2>&1 || tests_rc=$?
tail -n 1 "$out/gpu-tests.log"
echo "gpu_check: throughput, $shots shots (report: $out/gpu_throughput.json)"
bench_rc=0
"$PY" benchmarks/gpu_throughput.py --shots "$shots" --repeats 1 --dir "$out" --ray --check \
    --json-out "$out/gpu_throughput.json" --table --tests-junit "$out/gpu-tests.xml" \
    || bench_rc=$?
if [ "$tests_rc" -ne 0 ] || [ "$bench_rc" -ne 0 ]; then
    echo "gpu_check: FAILED (tests exit $tests_rc, benchmark exit $bench_rc)" >&2
    exit 1
fi
echo "gpu_check: passed"
