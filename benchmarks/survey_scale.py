"""Surveys of any size: what the driver pays per unit, and how fast a survey is indexed.

(a) ``scheduler``: a job of 1,000,000 units (one trace, one gather each) through the real
    :class:`~seisproc.jobs.manager.JobManager`: planning on the lazy unit cut, the
    scheduler, the bitmap checkpoints (fsync'd per batch), the history writer and events;
    only the executor is fake, completing every unit at once, so what is measured is the
    driver alone. Figures: driver CPU per unit (process CPU from the first unit to
    COMPLETED, over the units), peak driver RSS, the checkpoint file's largest size.
    Targets: < 1 ms, < 1 GB, < 10 MB.
(b) ``index``: the gather index of a sparse SEG-Y (trace headers written, samples left as
    holes: 10,000,000 traces of 2,001 samples is 80 GB apparent) built by this process
    alone against the header scan on 2 Ray workers (:meth:`~seisproc.orchestration.
    executor.RayExecutor.scan_headers`), interleaved, medians; the index's bytes per
    trace; opening its cache. Targets: >= 1.7x, <= 5 bytes, < 0.2 s. The speed-up with a
    target is *cold*: the file's pages are dropped from the page cache
    (``POSIX_FADV_DONTNEED``, this file only) before each build, as a survey larger than
    memory is read from the disk; ``speedup_warm`` is the same read again at once (the
    scan's ``MADV_SEQUENTIAL`` lets the kernel drop pages behind it: partly from disk).

A 2,001-sample trace is 8,244 bytes, so every other 4 KB block holds a header, and ext4
fills holes shorter than 32 KB between written blocks (``extent_max_zeroout_kb``): there
the "sparse" file takes its whole apparent size, 82 GB for 10 million traces.
``--traces`` makes it smaller. Prints one JSON document on stdout.

    python -m benchmarks.survey_scale [--quick] [--units 1000000] [--traces 10000000]
                                      [--samples 2001] [--dir DIR] [--only scheduler|index]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

try:
    from benchmarks import _engine_common as common
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import _engine_common as common  # type: ignore[no-redef]

from seisproc.io.headers import TRACE_HEADER_BYTES, header_field
from seisproc.io.index import _load, _store, build_index
from seisproc.io.scan import read_header_column
from seisproc.io.segy import open_segy
from seisproc.io.synth import SurveyGeometry, synthesize_survey
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore
from seisproc.jobs.ports import Completion, JobSpec
from seisproc.jobs.units import UnitResult, WorkUnit

_FFID = header_field("ffid")


# ---------------------------------------------------------------------- the survey
def sparse_survey(path: Path, n_traces: int, samples: int, traces_per_gather: int) -> Path:
    """A SEG-Y of ``n_traces`` whose trace headers are written and whose samples are
    holes: the file headers of a 1-trace synthetic survey, then each trace's header with
    its FFID (``traces_per_gather`` traces a gather) and sequence number."""
    if path.exists() and open_segy(path).layout.n_traces == n_traces:
        return path
    template = synthesize_survey(path.with_suffix(".template.sgy"),
                                 SurveyGeometry(shots=1, channels=1, samples=samples))
    head = template.read_bytes()
    with open_segy(template) as segy:
        layout = segy.layout
    header = np.frombuffer(head, np.uint8, TRACE_HEADER_BYTES, layout.data_offset)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        fh.write(head[: layout.data_offset])
        fh.truncate(layout.data_offset + n_traces * layout.trace_bytes)
    mapped = np.memmap(tmp, np.uint8, "r+", layout.data_offset,
                       (n_traces, layout.trace_bytes))
    for first in range(0, n_traces, 1 << 16):
        count = min(1 << 16, n_traces - first)
        headers = np.repeat(header[None, :], count, axis=0)
        numbers = np.arange(first, first + count)
        headers[:, 0:4] = (numbers + 1).astype(">i4").view(np.uint8).reshape(-1, 4)
        headers[:, _FFID.byte - 1 : _FFID.byte + 3] = (
            (numbers // traces_per_gather + 1).astype(">i4").view(np.uint8).reshape(-1, 4))
        mapped[first : first + count, :TRACE_HEADER_BYTES] = headers
    mapped.flush()
    del mapped
    tmp.rename(path)
    template.unlink()
    return path


# ---------------------------------------------------------------------- (a) the scheduler
class InstantExecutor:
    """An :class:`~seisproc.jobs.ports.Executor` whose units are done as submitted."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._done: list[Completion] = []
        self._lock = threading.Lock()

    def capacity(self) -> int:
        return self._capacity

    def in_flight(self) -> int:
        with self._lock:
            return len(self._done)

    def submit(self, spec: JobSpec, unit: WorkUnit) -> None:
        result = UnitResult(unit.number, unit.n_traces, len(unit.gathers), 0.0, 0.0, 0.0,
                            finished_at=time.time())
        with self._lock:
            self._done.append(Completion(spec.job_id, unit, result=result, node="bench"))

    def wait(self, timeout_s: float) -> list[Completion]:
        with self._lock:
            done, self._done = self._done, []
        return done

    def stop_job(self, job_id: str) -> None:
        pass

    def release_job(self, job_id: str) -> None:
        pass

    def shutdown(self) -> None:
        pass


class MeasuredCheckpoints(CheckpointStore):
    """The real store; notes the largest its file got (it is removed at the commit)."""

    largest = 0

    def append_many(self, job_id: str, unit_numbers: Sequence[int]) -> None:
        super().append_many(job_id, unit_numbers)
        self.largest = max(self.largest, self.path(job_id).stat().st_size)


def scheduler_figures(folder: Path, n_units: int, capacity: int) -> dict[str, Any]:
    survey = sparse_survey(folder / f"units-{n_units}.sgy", n_units, 1, 1)
    checkpoints = MeasuredCheckpoints(folder / "checkpoints")
    manager = JobManager(MemoryJobStore(), lambda: InstantExecutor(capacity), checkpoints,
                         gathers_per_unit=1)
    first_unit: list[float] = []

    def on_event(event: JobEvent) -> None:
        if not first_unit and event.kind is JobEventKind.PROGRESS and "unit" in event.detail:
            first_unit.append(time.process_time())

    manager.subscribe(on_event)
    output = folder / "units-out.sgy"
    output.unlink(missing_ok=True)
    flow = common.make_flow(survey, output, [{"normalize": {"method": "max"}}], name="units")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        job = manager.wait(manager.submit(flow).id, timeout_s=3600)
    finally:
        manager.close(active="cancel")
    cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
    scheduling_cpu_s = time.process_time() - first_unit[0] if first_unit else cpu_s
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    output.unlink(missing_ok=True)
    return {
        "units": n_units, "state": job.state.value, "executor_capacity": capacity,
        "wall_s": round(wall_s, 2), "cpu_s": round(cpu_s, 2),
        "planning_cpu_s": round(cpu_s - scheduling_cpu_s, 2),
        "driver_cpu_per_unit": common.target(1000 * scheduling_cpu_s / n_units, None, 1.0),
        "peak_rss": common.target(peak_rss_mb, None, 1024, unit="MB"),
        "checkpoint_file": common.target(checkpoints.largest / 1e6, None, 10, unit="MB"),
    }


# ---------------------------------------------------------------------- (b) the index
def evict(path: Path) -> None:
    """Drop this file's pages from the page cache (this file's only): every build reads
    from the disk, as the scan of a survey larger than memory does."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def index_figures(folder: Path, n_traces: int, samples: int, rounds: int) -> dict[str, Any]:
    survey = sparse_survey(folder / f"sparse-{n_traces}x{samples}.sgy", n_traces, samples, 480)
    with open_segy(survey) as segy:
        layout = segy.layout
    common.start_ray()
    from seisproc.orchestration.executor import RayExecutor

    executor = RayExecutor(workers=2, warm=False, scan_min_traces=0)
    executor.wait_ready()

    def one_process() -> Any:
        return build_index(read_header_column(survey, layout, _FFID), _FFID.name)

    def two_workers() -> Any:
        column = read_header_column(survey, layout, _FFID, scan=executor.scan_headers)
        return build_index(column, _FFID.name)

    times: dict[str, list[float]] = {}
    try:
        for cold in (True, False):
            for _ in range(rounds):
                for build in (one_process, two_workers):
                    if cold:
                        evict(survey)
                    t0 = time.perf_counter()
                    index = build()
                    name = f"{build.__name__}_{'cold' if cold else 'warm'}_s"
                    times.setdefault(name, []).append(time.perf_counter() - t0)
                    common.note(f"{name}: {times[name][-1]:.2f} s")
    finally:
        executor.shutdown()
    cache = folder / "sparse.index"
    _store(cache, index)
    t0 = time.perf_counter()
    cached = _load(cache, _FFID.name)
    open_s = time.perf_counter() - t0
    assert cached is not None and cached.n_traces == n_traces
    cache.unlink()
    def ratio(kind: str) -> float:
        return (statistics.median(times[f"one_process_{kind}_s"])
                / statistics.median(times[f"two_workers_{kind}_s"]))

    return {
        "traces": n_traces, "samples": samples,
        "apparent_gb": round(survey.stat().st_size / 1e9, 1),
        "disk_gb": round(survey.stat().st_blocks * 512 / 1e9, 1),
        **{name: [round(s, 2) for s in values] for name, values in times.items()},
        "speedup": common.target(ratio("cold"), None, 1.7, higher_is_better=True, unit="x"),
        "speedup_warm": round(ratio("warm"), 3),
        "bytes_per_trace": common.target(index.nbytes / n_traces, None, 5.0001, unit="B"),
        "cache_open": common.target(open_s * 1000, None, 200, unit="ms"),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 units, 100,000 traces")
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--traces", type=int, default=10_000_000)
    parser.add_argument("--samples", type=int, default=2001)
    parser.add_argument("--capacity", type=int, default=256,
                        help="units in flight at once (128 workers x 2)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=("scheduler", "index"))
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "seisproc-bench")
    args = parser.parse_args(argv)
    if args.quick:
        args.units, args.traces, args.rounds = 20_000, 100_000, 1
    args.dir.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="home-", dir=args.dir))
    os.environ["SEISPROC_HOME"] = str(home)  # a fresh one: the planning scans the input
    report: dict[str, Any] = {"benchmark": "survey_scale", "machine": common.machine()}
    with common.json_stdout(), contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, home, True)
        if args.only in (None, "scheduler"):
            report["scheduler"] = scheduler_figures(args.dir, args.units, args.capacity)
        if args.only in (None, "index"):
            report["index"] = index_figures(args.dir, args.traces, args.samples, args.rounds)
    common.emit(report)


if __name__ == "__main__":
    main()
