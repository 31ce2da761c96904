"""``seisproc monitor``: resources, workers, running jobs and recent alerts, live.

Jobs are read from the job history (any process's jobs, as ``seisproc jobs`` shows them),
so the monitor runs beside a ``seisproc run`` in another terminal, or with no job at all.
The cluster section appears with ``--address`` (or ``SEISPROC_RAY_ADDRESS``): the monitor
joins a running Ray cluster but never starts one. Alert rules come from
``<seisproc home>/alerts.toml`` (the built-in rules without it), and their actions run as
configured (a webhook posts, the log prints above the live view); ``pause_job`` and
``cancel_job`` ask the process running the job, through the history, as ``seisproc pause``
does. Each minute's average of the samples is kept in the history for the analytics.
"""

from __future__ import annotations

import contextlib
import json
import queue
import time
from pathlib import Path

import click
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from seisproc.alerts import Alert, AlertManager, AlertStatus, open_alert_manager
from seisproc.analytics.format import human_clock
from seisproc.cli.run import database_option
from seisproc.engine import JobControlRequests, open_store, resource_recorder
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.model import Job
from seisproc.jobs.owner import owner_alive
from seisproc.monitoring import (
    ACTIVE_STATES,
    ClusterProbe,
    JobTracker,
    ResourceMonitor,
    ResourceSnapshot,
)

__all__ = ["monitor", "render_snapshot"]

_SEVERITY_STYLE = {"info": "cyan", "warning": "yellow", "critical": "bold red"}
_BARS = " ▁▂▃▄▅▆▇█"


@click.command()
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(min=0.05),
              help="Seconds between samples.")
@click.option("--once", is_flag=True, help="Take one sample (over --interval), print, exit.")
@click.option("--json", "as_json", is_flag=True,
              help="Print snapshots as JSON (one per line) instead of the live view.")
@click.option("--count", type=click.IntRange(min=1), default=None,
              help="Stop after this many samples (default: run until Ctrl-C).")
@click.option("--alerts-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Alert rules; default: alerts.toml in SEISPROC_HOME.")
@click.option("--address", envvar="SEISPROC_RAY_ADDRESS", default=None,
              help="Ray cluster to report on ('auto', 'host:6379'); none by default.")
@database_option
def monitor(interval: float, once: bool, as_json: bool, count: int | None,
            alerts_file: Path | None, address: str | None, database_url: str | None) -> None:
    """Live view of CPU, memory, disks, network, GPUs, Ray workers, jobs and alerts."""
    with contextlib.ExitStack() as cleanup:
        store = open_store(database_url)
        cleanup.callback(store.close)
        alerts = open_alert_manager(alerts_file, jobs=JobControlRequests(store))
        cleanup.callback(alerts.close)
        tracker = JobTracker(lambda: [j for j in store.list_jobs(ACTIVE_STATES)
                                      if owner_alive(j, store)], lookup=store.get_job,
                             predict=store.predicted_rate)  # for the job_slow rule
        tracker.on_ended(lambda job: alerts.handle_event(_ended_event(job)))
        sampler = ResourceMonitor(interval_s=interval, jobs=tracker,
                                  cluster=_probe(address, cleanup),
                                  sink=resource_recorder(store))
        cleanup.callback(sampler.stop)
        sampler.subscribe(alerts.check)
        _show(sampler, alerts, once, as_json, count)


def _show(sampler: ResourceMonitor, alerts: AlertManager, once: bool, as_json: bool,
          count: int | None) -> None:
    """One snapshot, or a stream of them, until ``count`` or Ctrl-C (a normal exit)."""
    try:
        if once:
            time.sleep(sampler.interval_s)  # CPU and I/O rates are measured over it
            snapshot = sampler.sample()
            if as_json:
                _print_json(snapshot)
            else:
                Console().print(render_snapshot(snapshot, alerts.recent(8)))
        else:
            _follow(sampler, alerts, count, as_json)
    except KeyboardInterrupt:
        return


def _probe(address: str | None, cleanup: contextlib.ExitStack) -> ClusterProbe | None:
    """The Ray probe, after joining the cluster at ``address``; none without an address.

    Ray is imported only here: the monitor without ``--address`` starts in a blink.
    """
    if not address:
        return None
    from seisproc.orchestration import connect, ray_shutdown_if_started
    from seisproc.orchestration.probe import RayClusterProbe

    connect(address)
    cleanup.callback(ray_shutdown_if_started)  # a cluster joined is left running
    return RayClusterProbe()


def _ended_event(job: Job) -> JobEvent:
    """A job seen finished by polling, as the event its owner's JobManager emitted."""
    return JobEvent(JobEventKind.STATE_CHANGED, job, detail={"to": job.state.value})


def _print_json(snapshot: ResourceSnapshot) -> None:
    click.echo(json.dumps(snapshot.to_dict()))


def _follow(sampler: ResourceMonitor, alerts: AlertManager, count: int | None,
            as_json: bool) -> None:
    """Print (JSON) or redraw (live view) each new snapshot, ``count`` times or forever."""
    updates: queue.Queue[ResourceSnapshot] = queue.Queue()
    sampler.subscribe(updates.put)
    sampler.start()
    shown = 0
    if as_json:
        while count is None or shown < count:
            _print_json(updates.get())
            shown += 1
        return
    console = Console()
    with Live(Text("sampling..."), console=console, auto_refresh=False) as live:
        while count is None or shown < count:
            live.update(render_snapshot(updates.get(), alerts.recent(8)), refresh=True)
            shown += 1


# ---------------------------------------------------------------------- rendering
def _size(n: float | None, unit: str = "B") -> str:
    if n is None:
        return "-"
    for prefix in ("", "K", "M", "G", "T"):
        if abs(n) < 1024 or prefix == "T":
            return f"{n:.0f} {prefix}{unit}" if not prefix else f"{n:.1f} {prefix}{unit}"
        n /= 1024
    return f"{n:.1f} P{unit}"


def _percent_style(value: float) -> str:
    return "bold red" if value > 95 else "yellow" if value > 85 else "green"


def _bars(values: tuple[float, ...]) -> str:
    return "".join(_BARS[min(8, int(v / 100 * 8 + 0.5))] for v in values)


def render_snapshot(snapshot: ResourceSnapshot, alerts: list[Alert]) -> Group:
    """The whole view: machine, GPUs, cluster, jobs, alerts (empty sections left out)."""
    parts: list[RenderableType] = [_machine(snapshot)]
    if snapshot.disks:
        parts.append(_disks(snapshot))
    if snapshot.gpus:
        parts.append(_gpus(snapshot))
    if snapshot.cluster is not None:
        parts.append(_cluster(snapshot))
    parts.append(_jobs(snapshot))
    parts.append(_alerts(alerts))
    return Group(*parts)


def _machine(s: ResourceSnapshot) -> Table:
    table = Table(title=f"seisproc monitor  {s.at.astimezone():%H:%M:%S}", show_header=False,
                  box=None, title_justify="left", padding=(0, 2))
    table.add_row("CPU", Text(f"{s.cpu_percent:5.1f} %", _percent_style(s.cpu_percent)),
                  f"cores {_bars(s.cpu_per_core)}")
    table.add_row("memory", Text(f"{s.memory_percent:5.1f} %", _percent_style(s.memory_percent)),
                  f"{_size(s.memory_used_bytes)} of {_size(s.memory_total_bytes)}, "
                  f"swap {s.swap_percent:.0f} %")
    table.add_row("disk I/O", f"read {_size(s.disk_read_bytes_per_s, 'B/s')}",
                  f"write {_size(s.disk_write_bytes_per_s, 'B/s')}")
    table.add_row("network", f"in {_size(s.net_recv_bytes_per_s, 'B/s')}",
                  f"out {_size(s.net_sent_bytes_per_s, 'B/s')}")
    return table


def _disks(s: ResourceSnapshot) -> Table:
    table = Table("disk", "folder", "used", "free", "read", "write", title_justify="left")
    for d in s.disks:
        table.add_row(d.label, d.path, Text(f"{d.percent:.0f} %", _percent_style(d.percent)),
                      _size(d.free_bytes), _size(d.read_bytes_per_s, "B/s"),
                      _size(d.write_bytes_per_s, "B/s"))
    return table


def _gpus(s: ResourceSnapshot) -> Table:
    table = Table("GPU", "name", "busy", "memory", "temperature", title_justify="left")
    for g in s.gpus:
        table.add_row(str(g.index), g.name, f"{g.utilization_percent:.0f} %",
                      f"{_size(g.memory_used_bytes)} of {_size(g.memory_total_bytes)}",
                      "-" if g.temperature_c is None else f"{g.temperature_c:.0f} °C")
    return table


def _cluster(s: ResourceSnapshot) -> Table:
    assert s.cluster is not None
    table = Table("node", "address", "state", "CPUs held", "workers busy/alive",
                  "object store", title="Ray cluster", title_justify="left")
    for n in s.cluster.nodes:
        workers = "-" if n.workers_alive is None else f"{n.workers_busy}/{n.workers_alive}"
        table.add_row(n.node_id[:12], n.address,
                      Text("alive", "green") if n.alive else Text("dead", "bold red"),
                      f"{n.cpus_total - n.cpus_available:g}/{n.cpus_total:g}", workers,
                      f"{_size(n.object_store_used_bytes)} of "
                      f"{_size(n.object_store_total_bytes)}")
    return table


def _jobs(s: ResourceSnapshot) -> Table | Text:
    if not s.jobs:
        return Text("no active jobs", style="dim")
    table = Table("job", "name", "state", "done", "traces/s", "predicted", "no progress",
                  "ETA", title="Active jobs", title_justify="left")
    for j in s.jobs:
        predicted = "-" if j.predicted_traces_per_s is None else f"{j.predicted_traces_per_s:,.0f}"
        table.add_row(j.job_id, j.name, j.state, f"{100 * j.fraction:.0f} %",
                      f"{j.traces_per_s:,.0f}", predicted,
                      human_clock(j.no_progress_seconds), human_clock(j.eta_s))
    return table


def _alerts(alerts: list[Alert]) -> Table | Text:
    if not alerts:
        return Text("no alerts", style="dim")
    table = Table("time", "severity", "rule", "message", title="Recent alerts",
                  title_justify="left")
    for a in reversed(alerts):
        style = "green" if a.status is AlertStatus.RESOLVED else _SEVERITY_STYLE[a.severity]
        table.add_row(f"{a.at.astimezone():%H:%M:%S}", Text(a.severity.value, style), a.rule,
                      a.message)
    return table
