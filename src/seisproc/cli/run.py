"""``seisproc run``: run a flow file as a job, in the foreground or detached.

The process that runs a job also hosts the alert rules that act on it: job rules are
checked as each unit completes, so the built-in ``qc_non_finite`` pauses a job whose output
holds NaN or Inf (``seisproc resume`` continues it, ``seisproc cancel`` or Ctrl-C ends it).
Machine-wide rules (memory, disks, the cluster) belong to ``seisproc monitor``.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import click

from seisproc.alerts import AlertConfigError, open_alert_manager
from seisproc.cli.follow import follow_job
from seisproc.cli.signals import interrupt_on_termination
from seisproc.engine import open_manager
from seisproc.errors import SeisprocError
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.manager import JobManager
from seisproc.jobs.model import JobState
from seisproc.jobs.plan import check_output_path
from seisproc.monitoring import JobTracker
from seisproc.paths import open_private, private_dir, seisproc_home
from seisproc.processing.flow import load_flow
from seisproc.production.pipeline import is_pipeline_file, load_pipeline
from seisproc.production.templates import expand_inputs, flows_for_inputs

__all__ = ["run", "address_option", "database_option"]

address_option = click.option(
    "--address", envvar="SEISPROC_RAY_ADDRESS", default=None,
    help="Ray cluster to run on ('auto', 'ray://host:10001'); default: a local Ray.")
database_option = click.option(
    "--database-url", envvar="SEISPROC_DATABASE_URL", default=None,
    help="Job history database URL; default: SQLite in SEISPROC_HOME.")


@click.command()
@click.argument("flow_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace the output if it exists.")
@click.option("--priority", default=0, show_default=True, help="Higher starts first.")
@click.option("--detach", is_flag=True, help="Run in the background and return at once.")
@click.option("--on-interrupt", type=click.Choice(["cancel", "pause"]), default="cancel",
              show_default=True,
              help="What Ctrl-C (or SIGTERM, SIGHUP) does to the job.")
@click.option("--each", metavar="PATTERN|@LIST", default=None,
              help="Run the flow once per input: a glob ('raw/line_*.sgy') or @file listing "
                   "one input per line; the flow's output is a template ('{stem}_out.sgy').")
@click.option("--after", multiple=True, metavar="JOB_OR_BATCH",
              help="Wait (holding no slot) until this job, or every job of this batch, "
                   "ended well; repeatable.")
@click.option("--job-id-file", type=click.Path(path_type=Path), hidden=True)
@address_option
@database_option
def run(flow_file: Path, overwrite: bool, priority: int, detach: bool, on_interrupt: str,
        each: str | None, after: tuple[str, ...], job_id_file: Path | None,
        address: str | None, database_url: str | None) -> None:
    """Run the processing flow in FLOW_FILE (YAML or TOML) as a job on Ray; or every flow
    of a pipeline file, each after the flows whose outputs it reads."""
    if detach:
        _detach(flow_file, overwrite, priority, address, database_url, each=each, after=after)
        return
    if is_pipeline_file(flow_file):
        if each is not None:
            raise click.UsageError("--each runs one flow over many inputs; a pipeline file "
                                   "names its flows' inputs itself")
        from seisproc.cli.pipeline import run_pipeline

        with interrupt_on_termination():
            run_pipeline(flow_file, overwrite=overwrite, priority=priority,
                         on_interrupt=on_interrupt, after=after, address=address,
                         database_url=database_url, id_file=job_id_file)
        return
    if each is not None:
        _run_each(flow_file, each, overwrite, priority, on_interrupt, job_id_file,
                  address, database_url, after)
        return
    flow = load_flow(flow_file)
    if "{" in str(flow.output):  # an output template, rendered for the flow's one input
        flow = flows_for_inputs(flow_file, [flow.input], date.today())[0]
    check_output_path(flow, overwrite)
    with interrupt_on_termination(), contextlib.ExitStack() as cleanup:
        manager = open_manager(address=address, database_url=database_url)
        cleanup.callback(manager.close, active="pause" if on_interrupt == "pause" else "cancel")
        host_alerts(manager, cleanup)
        from seisproc.cli.pipeline import resolve_after

        job = manager.submit(flow, overwrite=overwrite, priority=priority,
                             after=resolve_after(manager.store, after, database_url))
        if job_id_file is not None:
            with os.fdopen(open_private(job_id_file), "w") as id_file:
                id_file.write(job.id)
        else:
            click.echo(f"job {job.id} submitted ({flow.name}); Ctrl-C to {on_interrupt}",
                       err=True)
        follow_job(manager, job, on_interrupt)


def _run_each(flow_file: Path, each: str, overwrite: bool, priority: int,
              on_interrupt: str, job_id_file: Path | None, address: str | None,
              database_url: str | None, after: tuple[str, ...]) -> None:
    """``--each``: one job per input, one batch (:mod:`seisproc.cli.batch`)."""
    from seisproc.cli.batch import run_batch

    with interrupt_on_termination():
        run_batch(flow_file, each, overwrite=overwrite, priority=priority,
                  on_interrupt=on_interrupt, address=address, database_url=database_url,
                  id_file=job_id_file, after=after)


def host_alerts(manager: JobManager, cleanup: contextlib.ExitStack) -> None:
    """Check job alert rules on ``manager``'s jobs as their units complete, with
    ``pause_job``/``cancel_job`` acting on them; stopped by ``cleanup``.

    A broken ``alerts.toml`` costs the alerts, not the run: it is reported, and the job
    runs without them.
    """
    try:
        alerts = open_alert_manager(jobs=manager)
    except AlertConfigError as exc:
        click.secho(f"warning: alert rules off: {exc}", fg="yellow", err=True)
        return
    cleanup.callback(alerts.close)
    tracker = JobTracker.following(manager)
    cleanup.callback(tracker.close)
    tracker.on_unit(alerts.check_job)
    cleanup.callback(manager.subscribe(_explain_alert_pause))


def _explain_alert_pause(event: JobEvent) -> None:
    """Say how to go on when an alert paused a job this terminal follows."""
    job = event.job
    if event.kind is JobEventKind.STATE_CHANGED and job.state is JobState.PAUSED \
            and job.message.startswith("paused by alert"):
        click.echo(f"\njob {job.id} {job.message}\n  continue: seisproc resume {job.id}   "
                   f"stop: seisproc cancel {job.id} (or Ctrl-C)", err=True)


def _detach(flow_file: Path, overwrite: bool, priority: int, address: str | None,
            database_url: str | None, each: str | None = None,
            after: tuple[str, ...] = ()) -> None:
    """Start ``seisproc run`` in a new session that outlives this terminal; what would
    refuse it (a flow, a template, a glob) is refused here first, at once."""
    many = each is not None or is_pipeline_file(flow_file)
    if each is not None:
        flows_for_inputs(flow_file, expand_inputs(each), date.today())
    elif is_pipeline_file(flow_file):
        load_pipeline(flow_file)
    else:
        check_output_path(load_flow(flow_file), overwrite)
    logs = private_dir(seisproc_home() / "logs")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    id_file = logs / f".job-id-{os.getpid()}-{stamp}"
    log_path = logs / f"run-{stamp}-{os.getpid()}.log"
    args = [sys.executable, "-m", "seisproc", "run", str(flow_file), "--job-id-file",
            str(id_file), "--priority", str(priority)]
    args += ["--overwrite"] if overwrite else []
    args += ["--address", address] if address else []
    args += ["--database-url", database_url] if database_url else []
    args += ["--each", each] if each is not None else []
    args += [arg for value in after for arg in ("--after", value)]
    with os.fdopen(open_private(log_path, os.O_WRONLY | os.O_APPEND), "ab") as log:
        child = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                 start_new_session=True)
    job_id = _wait_for_id(id_file, child, log_path)
    if many:
        click.echo(f"batch {job_id} running in the background (pid {child.pid}, log "
                   f"{log_path})")
        click.echo(f"watch: seisproc jobs --batch {job_id}   summary: seisproc batch "
                   f"{job_id}   cancel: seisproc cancel --batch {job_id}")
        return
    click.echo(f"job {job_id} running in the background (pid {child.pid}, log {log_path})")
    click.echo(f"watch: seisproc jobs   pause: seisproc pause {job_id}   "
               f"cancel: seisproc cancel {job_id}")


def _wait_for_id(id_file: Path, child: subprocess.Popen[bytes], log_path: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if id_file.exists() and id_file.read_text():
            job_id = id_file.read_text().strip()
            id_file.unlink()
            return job_id
        if child.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
            raise SeisprocError(f"the background run stopped at once: {' '.join(tail)}")
        time.sleep(0.05)
    raise SeisprocError(f"the background run did not report a job id; see {log_path}")
