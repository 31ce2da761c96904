"""The benchmark suite's output: rows of figures against targets, as text and Markdown,
and a description of the machine they were measured on.

No benchmark runs here, so the formatting can be tested on canned figures.
"""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["Row", "describe_machine", "format_markdown", "format_table", "format_value",
           "machine"]

HEADERS = ("benchmark", "figure", "measured", "seed target", "our target", "seed", "ours")
VERSIONS = ("ray", "numpy", "scipy", "segyio", "SQLAlchemy", "torch")


@dataclass(frozen=True)
class Row:
    """One figure of one benchmark beside its targets (``None``: no target, or not
    measured, in which case ``note`` says why)."""

    benchmark: str
    figure: str
    unit: str
    measured: float | None
    seed: float | None
    ours: float | None
    higher_is_better: bool = False
    source: str = ""
    note: str = ""

    def _met(self, limit: float | None) -> bool | None:
        if limit is None or self.measured is None:
            return None
        return self.measured >= limit if self.higher_is_better else self.measured < limit

    @property
    def seed_met(self) -> bool | None:
        return self._met(self.seed)

    @property
    def ours_met(self) -> bool | None:
        return self._met(self.ours)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seed_met": self.seed_met, "ours_met": self.ours_met}

    def cells(self) -> tuple[str, ...]:
        """The row as the table shows it (the benchmark column included)."""
        measured = (format_value(self.measured, self.unit) if self.measured is not None
                    else self.note or "-")
        return (self.benchmark, self.figure, measured, self._target(self.seed),
                self._target(self.ours), _verdict(self.seed_met), _verdict(self.ours_met))

    def _target(self, limit: float | None) -> str:
        if limit is None:
            return "-"
        return f"{'>=' if self.higher_is_better else '<'} {format_value(limit, self.unit)}"


def _verdict(met: bool | None) -> str:
    return "-" if met is None else ("pass" if met else "FAIL")


def format_value(value: float, unit: str) -> str:
    """``value`` to 3 significant figures (whole above 1000), and its unit (``x`` sticks
    to it: ``0.51x``).

    >>> format_value(42.7712, "ms"), format_value(26727.4, "traces/s"), format_value(0.9, "x")
    ('42.8 ms', '26,727 traces/s', '0.9x')
    """
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return f"{text}x" if unit == "x" else f"{text} {unit}".rstrip()


def _grouped(rows: list[Row]) -> list[tuple[str, ...]]:
    """Cells of every row, the benchmark named on the first row of its group only."""
    out, previous = [], None
    for row in rows:
        cells = row.cells()
        out.append(("" if row.benchmark == previous else cells[0], *cells[1:]))
        previous = row.benchmark
    return out


def _tally(rows: list[Row]) -> str:
    """``3 of 4 figures meet our target, 2 of 2 the seed plan's; 1 not measured``."""
    ours = [r.ours_met for r in rows if r.ours_met is not None]
    seed = [r.seed_met for r in rows if r.seed_met is not None]
    parts = [f"{sum(ours)} of {len(ours)} figures meet our target"]
    if seed:
        parts[0] += f", {sum(seed)} of {len(seed)} the seed plan's"
    missing = sum(r.measured is None for r in rows)
    if missing:
        parts.append(f"{missing} not measured")
    return "; ".join(parts)


def format_table(rows: list[Row], *, mode: str, machine_info: dict[str, Any],
                 seconds: float) -> str:
    """The plain-text table the suite prints, with the machine above and a tally below."""
    lines = _grouped(rows)
    widths = [max(len(h), *(len(cells[i]) for cells in lines)) for i, h in enumerate(HEADERS)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if 2 <= i <= 4 else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    body = [line(HEADERS), "  ".join("-" * w for w in widths)] + [line(c) for c in lines]
    return "\n".join([f"seisproc benchmarks, {mode} run, {seconds:.0f} s",
                      f"machine: {describe_machine(machine_info)}", "", *body, "",
                      _tally(rows) + ". seed: the seed plan's targets; ours: this "
                      "project's (see benchmarks/suite.py)."])


def format_markdown(rows: list[Row], *, mode: str, machine_info: dict[str, Any]) -> str:
    """The table for the README, preceded by the machine it was measured on."""
    command = "python -m benchmarks" + (" --full" if mode == "full" else "")
    out = [f"Measured with `{command}` on {describe_machine(machine_info)}.", "",
           "| " + " | ".join(HEADERS) + " |", "|---|---|---:|---:|---:|:-:|:-:|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
            for cells in _grouped(rows)]
    return "\n".join([*out, "", _tally(rows) + ".", ""])


# ---------------------------------------------------------------------- the machine
def machine() -> dict[str, Any]:
    """CPU, memory, system, versions, GPUs and the load average now."""
    import psutil

    return {"cpu": _cpu_model(), "logical_cpus": psutil.cpu_count(),
            "physical_cores": psutil.cpu_count(logical=False),
            "virtual_machine": _is_virtual(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "platform": platform.platform(), "python": platform.python_version(),
            "versions": {name: _version(name) for name in VERSIONS},
            "gpus": _gpu_names(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def describe_machine(info: dict[str, Any]) -> str:
    """One line: ``AMD EPYC, 2 CPUs (virtual machine), 23.5 GiB, ...``."""
    cpus = f"{info.get('logical_cpus')} CPUs" + (
        " (virtual machine)" if info.get("virtual_machine") else "")
    versions = info.get("versions", {})
    gpus = ", ".join(info.get("gpus") or []) or "no GPU"
    load = info.get("load_average_at_start")
    parts = [str(info.get("cpu")), cpus, f"{info.get('memory_gib')} GiB",
             str(info.get("platform")), f"Python {info.get('python')}",
             f"Ray {versions.get('ray')}", gpus]
    text = ", ".join(parts)
    if load:
        text += f"; load average {load[0]} at the start"
        end = info.get("load_average_at_end")
        text += f", {end[0]} at the end" if end else ""
    return text


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _is_virtual() -> bool:
    """The CPU's ``hypervisor`` flag (Linux): the figures come from a virtual machine."""
    cpuinfo = Path("/proc/cpuinfo")
    return cpuinfo.exists() and " hypervisor" in cpuinfo.read_text(errors="replace")


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _gpu_names() -> list[str]:
    """NVIDIA GPUs by NVML; none where there is no driver."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # no NVIDIA driver or library
        return []
    try:
        names = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            name = pynvml.nvmlDeviceGetName(pynvml.nvmlDeviceGetHandleByIndex(index))
            names.append(name.decode() if isinstance(name, bytes) else str(name))
        return names
    finally:
        pynvml.nvmlShutdown()
