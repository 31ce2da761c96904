"""This machine's CPU, memory, disks and network through psutil, as rates between samples.

psutil's own ``cpu_percent(interval=None)`` keeps one module-wide "previous" reading, so
two callers in one process (the monitor and a GUI gauge, say) would each see half the
interval. :class:`SystemSampler` keeps its own previous counters instead, and turns every
cumulative counter (CPU times, bytes read, bytes sent) into a rate over its own interval.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from seisproc.monitoring.snapshot import DiskStats

__all__ = ["SystemSampler", "SystemReading", "WatchedFolder"]


@dataclass(frozen=True)
class WatchedFolder:
    """A folder whose file system the monitor reports (usage, I/O rate)."""

    path: Path
    label: str


@dataclass(frozen=True)
class SystemReading:
    """One psutil reading, already turned into percentages and rates."""

    cpu_percent: float
    cpu_per_core: tuple[float, ...]
    memory_percent: float
    memory_used_bytes: int
    memory_total_bytes: int
    swap_percent: float
    disk_read_bytes_per_s: float | None
    disk_write_bytes_per_s: float | None
    net_sent_bytes_per_s: float
    net_recv_bytes_per_s: float
    disks: tuple[DiskStats, ...]


def _busy_percent(before: Any, after: Any) -> float:
    """Non-idle share of the CPU time elapsed between two ``cpu_times`` readings."""
    total = sum(after) - sum(before)
    if total <= 0:
        return 0.0
    idle = (after.idle - before.idle) + (getattr(after, "iowait", 0.0)
                                         - getattr(before, "iowait", 0.0))
    return float(max(0.0, min(100.0, 100.0 * (total - idle) / total)))


def _rate(now: float | None, before: float | None, seconds: float) -> float | None:
    if now is None or before is None or seconds <= 0:
        return None
    return max(0.0, (now - before) / seconds)


def _block_device(path: Path, known: Iterable[str]) -> str | None:
    """The name psutil's per-disk counters use for the device holding ``path`` (Linux).

    Found through ``/sys/dev/block/MAJOR:MINOR``; a partition without counters of its own
    falls back to its disk. ``None`` for overlay, tmpfs, network file systems and
    systems without sysfs, whose I/O cannot be attributed to one device.
    """
    try:
        dev = os.stat(path).st_dev
        link = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}").resolve(strict=True)
    except OSError:
        return None
    names = set(known)
    for candidate in (link.name, link.parent.name):
        if candidate in names:
            return candidate
    return None


class SystemSampler:
    """Reads psutil once per :meth:`read`; rates are over the time since the previous read.

    The constructor takes a first reading, so the first :meth:`read` after it already
    has an interval (make it at least ~0.1 s for a meaningful CPU figure).
    """

    def __init__(self) -> None:
        self._devices: dict[Path, str | None] = {}
        self._last = self._counters()

    @staticmethod
    def _counters() -> dict[str, Any]:
        return {"at": time.monotonic(), "cpu": psutil.cpu_times(),
                "cores": psutil.cpu_times(percpu=True),
                "io": psutil.disk_io_counters(), "perdisk": _perdisk(),
                "net": psutil.net_io_counters()}

    def read(self, folders: Iterable[WatchedFolder] = ()) -> SystemReading:
        """Sample now; ``folders`` are the file systems to report usage and I/O for."""
        now, before = self._counters(), self._last
        self._last = now
        seconds = now["at"] - before["at"]
        memory, swap = psutil.virtual_memory(), psutil.swap_memory()
        io_now, io_before = now["io"], before["io"]
        return SystemReading(
            cpu_percent=_busy_percent(before["cpu"], now["cpu"]),
            cpu_per_core=tuple(_busy_percent(b, a) for b, a in zip(before["cores"],
                                                                    now["cores"], strict=False)),
            memory_percent=float(memory.percent), memory_used_bytes=int(memory.used),
            memory_total_bytes=int(memory.total), swap_percent=float(swap.percent),
            disk_read_bytes_per_s=_rate(io_now and io_now.read_bytes,
                                        io_before and io_before.read_bytes, seconds),
            disk_write_bytes_per_s=_rate(io_now and io_now.write_bytes,
                                         io_before and io_before.write_bytes, seconds),
            net_sent_bytes_per_s=_rate(now["net"].bytes_sent, before["net"].bytes_sent,
                                       seconds) or 0.0,
            net_recv_bytes_per_s=_rate(now["net"].bytes_recv, before["net"].bytes_recv,
                                       seconds) or 0.0,
            disks=self._disks(folders, now["perdisk"], before["perdisk"], seconds))

    def _disks(self, folders: Iterable[WatchedFolder], perdisk: Mapping[str, Any],
               perdisk_before: Mapping[str, Any], seconds: float) -> tuple[DiskStats, ...]:
        out = []
        for folder in folders:
            try:
                usage = psutil.disk_usage(str(folder.path))
            except OSError:  # the folder went away (a job finished and was cleaned up)
                continue
            device = self._device(folder.path, perdisk)
            after, before = perdisk.get(device or ""), perdisk_before.get(device or "")
            out.append(DiskStats(
                path=str(folder.path), label=folder.label, total_bytes=int(usage.total),
                used_bytes=int(usage.used), free_bytes=int(usage.free),
                percent=float(usage.percent),
                read_bytes_per_s=_rate(after and after.read_bytes,
                                       before and before.read_bytes, seconds),
                write_bytes_per_s=_rate(after and after.write_bytes,
                                        before and before.write_bytes, seconds)))
        return tuple(out)

    def _device(self, path: Path, perdisk: Mapping[str, Any]) -> str | None:
        """Cached: a folder does not change device while it exists."""
        if path not in self._devices:
            self._devices[path] = _block_device(path, perdisk)
        return self._devices[path]


def _perdisk() -> dict[str, Any]:
    try:
        return dict(psutil.disk_io_counters(perdisk=True) or {})
    except (OSError, RuntimeError):  # no /proc/diskstats (some containers)
        return {}
