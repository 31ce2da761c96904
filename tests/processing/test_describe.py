"""Describing parameter models: kinds, bounds, units and defaults, read off pydantic."""

from __future__ import annotations

import enum
from typing import Literal

import pydantic
import pytest

from seisproc.processing import available_processors, processor_class
from seisproc.processing.describe import Bounds, describe_params, describe_processor


def specs(name: str) -> dict:
    return {spec.name: spec for spec in describe_params(processor_class(name).Params)}


def test_every_built_in_parameter_has_a_dedicated_kind() -> None:
    for name, cls in available_processors().items():
        for spec in describe_processor(cls).params:
            assert spec.kind != "other", f"{name}.{spec.name}: {spec.annotation}"


@pytest.mark.parametrize(("processor", "field", "kind", "type_name", "unit"), [
    ("agc", "window_ms", "float", "float > 0", "ms"),
    ("agc", "mode", "choice", "'rms' | 'mean_abs'", ""),
    ("bandpass", "f1", "float", "float >= 0", "Hz"),
    ("butterworth", "low_hz", "float", "float > 0 | None", "Hz"),
    ("butterworth", "order", "int", "int >= 1, <= 12", ""),
    ("exp_gain", "db_per_s", "float", "float", "dB/s"),
    ("normalize", "window_ms", "float_tuple", "[float >= 0, float >= 0] | None", "ms"),
    ("spherical_divergence", "velocities_m_s", "float_list", "list[float > 0]", "m/s"),
    ("spiking_decon", "prewhitening_percent", "float", "float >= 0", "%"),
    ("top_mute", "velocity_m_s", "float", "float > 0", "m/s"),
])
def test_built_in_fields_are_described(processor, field, kind, type_name, unit) -> None:
    spec = specs(processor)[field]
    assert (spec.kind, spec.type_name, spec.unit) == (kind, type_name, unit)


def test_required_optional_and_defaults() -> None:
    window, mode = specs("agc")["window_ms"], specs("agc")["mode"]
    assert window.required and window.default is None and not window.optional
    assert not mode.required and mode.default == "rms"
    low = specs("butterworth")["low_hz"]
    assert low.optional and not low.required and low.default is None
    assert specs("spherical_divergence")["times_ms"].default == [0.0]  # from the factory


def test_bounds_keep_exclusive_limits_apart() -> None:
    assert specs("tpow")["power"].bounds == Bounds(ge=0.0, le=10.0)
    window = specs("agc")["window_ms"].bounds
    assert (window.gt, window.lowest, window.highest) == (0.0, 0.0, None)
    assert specs("normalize")["window_ms"].bounds == Bounds(ge=0.0)
    assert specs("normalize")["window_ms"].length == 2


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Everything(pydantic.BaseModel):
    flag: bool = False
    label: str = pydantic.Field("x", description="A label, free text.")
    colour: Colour = Colour.RED
    level: Literal[1, 2, 3] = 2
    count: int | None = pydantic.Field(None, lt=100)
    ratios: tuple[float, ...] = ()
    table: dict[str, float] = pydantic.Field(default_factory=dict)
    length_m: float = pydantic.Field(1.0, description="Cable length.")
    delay: float = pydantic.Field(0.0, description="Start delay, s.")


def test_any_model_is_described() -> None:
    described = {spec.name: spec for spec in describe_params(Everything)}
    assert {name: spec.kind for name, spec in described.items()} == {
        "flag": "bool", "label": "text", "colour": "choice", "level": "choice",
        "count": "int", "ratios": "float_list", "table": "other", "length_m": "float",
        "delay": "float"}
    assert described["colour"].choices == ("red", "blue")
    assert described["level"].choices == (1, 2, 3)
    assert described["count"].optional and described["count"].bounds == Bounds(lt=100.0)
    assert described["count"].type_name == "int < 100 | None"
    assert (described["length_m"].unit, described["delay"].unit) == ("m", "s")
    assert described["table"].type_name == "dict[str, float]"


def test_a_processor_is_summarised_by_its_first_doc_line() -> None:
    spec = describe_processor(processor_class("normalise"))
    assert spec.name == "normalize" and spec.aliases == ("normalise", "trace_balance")
    assert spec.summary == "Trace balance: divide each trace by its amplitude level."
    assert [p.name for p in spec.params] == ["method", "window_ms"]
    assert describe_processor(processor_class("butterworth")).summary == (
        "Zero-phase Butterworth filter: bandpass, low-pass (high_hz only) or high-pass.")
