"""A job's time by stage: laps between boundaries, summed over units, shown as shares."""

from __future__ import annotations

import time

from seisproc.jobs.stages import StageClock, add_stages, breakdown


def test_each_lap_is_charged_to_the_stage_it_ends() -> None:
    clock = StageClock()
    time.sleep(0.05)
    clock.lap("read")
    clock.lap("decode")
    time.sleep(0.02)
    clock.lap("read")
    stages = dict(clock.stages())
    assert list(stages) == ["read", "decode"]
    assert stages["read"] >= 0.07 and stages["decode"] < 0.01


def test_units_add_up_per_stage() -> None:
    totals: dict[str, float] = {}
    add_stages(totals, [("read", 1.0), ("agc", 2.0)])
    add_stages(totals, [("read", 0.5), ("sync", 0.25)])
    assert totals == {"read": 1.5, "agc": 2.0, "sync": 0.25}


def test_the_breakdown_lists_the_largest_share_first_and_leaves_out_crumbs() -> None:
    assert breakdown({"read": 1.0, "decode": 2.0, "agc": 1.0, "qc": 0.001}) == (
        "decode 50% · read 25% · agc 25%")
    assert breakdown({}) == "" and breakdown({"read": 0.0}) == ""
