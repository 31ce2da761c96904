"""Units made as the scheduler takes them: the lazy cut of a plan, and a run's cursor over
it, whose cost does not grow with the number of units."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from seisproc.io.index import build_index
from seisproc.jobs.checkpoints import UnitSet
from seisproc.jobs.plan import JobPlan, UnitCut, cut_units
from seisproc.jobs.ports import JobSpec
from seisproc.jobs.running import JobRun

VALUES = np.array([4, 1, 4, 2, 2, 9, 1, 7, 7, 7, 3], np.int32)  # 6 gathers, file unsorted


def reference_units(values: np.ndarray, per_unit: int) -> list[list[list[int]]]:
    """Positions of each gather of each unit, from sorted keys and a plain loop."""
    gathers = [[p for p, v in enumerate(values.tolist()) if v == key]
               for key in sorted(set(values.tolist()))]
    return [gathers[i : i + per_unit] for i in range(0, len(gathers), per_unit)]


@pytest.mark.parametrize("per_unit", [1, 2, 4, 6, 7])
def test_each_unit_holds_the_gathers_a_loop_over_sorted_keys_gives(per_unit: int) -> None:
    units = cut_units(build_index(VALUES, "FieldRecord"), per_unit)
    expected = reference_units(VALUES, per_unit)
    assert len(units) == len(expected)
    assert [[g.positions.tolist() for g in u.gathers] for u in units] == expected
    assert [u.number for u in units] == list(range(len(expected)))
    numbers = np.arange(len(units))
    assert units.n_traces_of(numbers) == len(VALUES)
    assert units.n_traces_of(numbers[1:]) == sum(u.n_traces for u in units[1:])


def test_units_index_slice_and_refuse_numbers_out_of_range() -> None:
    units = cut_units(build_index(VALUES, "FieldRecord"), 2)
    assert units[-1].number == 2 and [u.number for u in units[1:]] == [1, 2]
    assert [u.number for u in units * 2] == [0, 1, 2, 0, 1, 2]
    with pytest.raises(IndexError, match="unit 3 of 3"):
        units[3]
    with pytest.raises(ValueError, match="at least 1"):
        UnitCut(build_index(VALUES, "FieldRecord"), 0)


def test_a_cut_of_a_million_units_allocates_nothing_per_unit() -> None:
    index = build_index(np.arange(1_000_000, dtype=np.int32), "FieldRecord")
    tracemalloc.start()
    try:
        units = cut_units(index, 1)
        last = units[999_999]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(units) == 1_000_000 and last.gathers[0].positions.tolist() == [999_999]
    assert peak < 100_000


def plan_of(values: np.ndarray, per_unit: int) -> JobPlan:
    index = build_index(values, "FieldRecord")
    return JobPlan(None, Path("p"), None, cut_units(index, per_unit),  # type: ignore[arg-type]
                   len(index), index.n_traces)


def test_a_resumed_run_hands_out_only_the_units_not_done_in_order() -> None:
    plan = plan_of(VALUES, 1)
    run = JobRun.start(JobSpec("j", None, "p", None), plan,  # type: ignore[arg-type]
                       UnitSet.of([0, 2, 3, 17]))  # 17 is of no unit of this plan
    assert run.traces_done == 2 + 2 + 1 and len(run.done) == 3
    taken = []
    while run.pending:
        taken.append(run.take().number)
    assert taken == [1, 4, 5] and run.in_flight == 3 and not run.finished


def test_units_handed_back_go_first_and_a_stop_empties_the_line() -> None:
    run = JobRun.start(JobSpec("j", None, "p", None), plan_of(VALUES, 1),  # type: ignore[arg-type]
                       UnitSet())
    first, second = run.take(), run.take()
    run.untake(second)
    run.landed()  # first's worker died: it came back, and goes out again
    assert run.give_back(first) == 1
    assert [run.take().number, run.take().number, run.take().number] == [0, 1, 2]
    run.stop()
    assert not run.pending and run.in_flight == 3
