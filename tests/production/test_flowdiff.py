"""Two flows compared step by step and parameter by parameter."""

from __future__ import annotations

from seisproc.production.flowdiff import file_differences, flow_differences

BASE = {
    "name": "f",
    "input": "/a.sgy",
    "output": "/a_out.sgy",
    "gather_by": "ffid",
    "steps": [{"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}}, {"agc": {"window_ms": 500}}],
}


def with_steps(*steps: dict) -> dict:
    return {**BASE, "steps": list(steps)}


def test_one_changed_parameter_is_named_alone() -> None:
    other = with_steps(BASE["steps"][0], {"agc": {"window_ms": 250}})
    assert flow_differences(BASE, other) == ["step 2: agc.window_ms 500 -> 250"]


def test_an_inserted_step_shows_as_added_not_as_every_later_step_changed() -> None:
    other = with_steps({"top_mute": {"velocity_m_s": 1500}}, *BASE["steps"])
    assert flow_differences(BASE, other) == ["step 1 added: top_mute {velocity_m_s: 1500}"]


def test_a_parameter_left_to_its_default_is_named_as_not_set() -> None:
    other = with_steps(BASE["steps"][0], {"agc": {}})
    assert flow_differences(BASE, other) == ["step 2: agc.window_ms 500 -> (not set)"]


def test_settings_and_files_are_told_apart() -> None:
    other = {**BASE, "gather_by": "cdp", "device": "gpu", "output": "/b_out.sgy"}
    assert flow_differences(BASE, other) == ["gather_by ffid -> cdp", "device auto -> gpu"]
    assert file_differences(BASE, other) == ["output /a_out.sgy -> /b_out.sgy"]
