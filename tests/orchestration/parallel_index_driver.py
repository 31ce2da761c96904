"""A driver process for ``test_parallel_index.py``: runs or resumes one job on a Ray
cluster, its gather index scanned by the workers.

This process's own header reader is replaced by one that fails, so a job that plans at
all had its header column read on the workers (their processes keep the real one).

    python parallel_index_driver.py ADDRESS HISTORY.db CHECKPOINTS run FLOW.json
    python parallel_index_driver.py ADDRESS HISTORY.db CHECKPOINTS resume JOB_ID
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import seisproc.io.scan as scan
from seisproc.history import JobHistoryStorage
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.events import JobEvent
from seisproc.jobs.manager import JobManager
from seisproc.orchestration import RayExecutor
from seisproc.processing.flow import Flow


def _refuse(*args: object) -> None:
    raise AssertionError(f"header range {args[2:]} was read on the driver")


def main(address: str, history: str, checkpoints: str, mode: str, what: str) -> int:
    scan.read_header_range = _refuse  # type: ignore[assignment]
    store = JobHistoryStorage(f"sqlite:///{history}")
    def workers() -> RayExecutor:  # any survey is scanned on them, however small
        return RayExecutor(address=address, workers=2, scan_min_traces=0)

    manager = JobManager(store, workers, CheckpointStore(checkpoints), gathers_per_unit=1)

    def tell(event: JobEvent) -> None:
        if "scanned" in event.detail:
            print("scanned", event.detail["scanned"], event.detail["traces_total"], flush=True)

    manager.subscribe(tell)
    if mode == "run":
        job = manager.submit(Flow.from_mapping(json.loads(Path(what).read_text())))
    else:
        job = manager.resume(what)
    print("job", job.id, flush=True)
    done = manager.wait(job.id, 600)
    print("state", done.state.value, done.message, flush=True)
    manager.close()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
