"""Every processor is reachable by name, validates its parameters and keeps the contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import seisproc.processing as processing
from seisproc.errors import FlowError, ParameterError, ProcessingError
from seisproc.processing import GatherContext, Normalize, available_processors, create_processor

# One valid parameter set per processor, shared by the contract tests below.
EXAMPLE_PARAMS: dict[str, dict[str, Any]] = {
    "agc": {"window_ms": 200},
    "bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80},
    "butterworth": {"low_hz": 8, "high_hz": 60, "order": 4},
    "exp_gain": {"db_per_s": 6},
    "normalize": {"method": "rms", "window_ms": [100, 800]},
    "spherical_divergence": {"velocities_m_s": [1800, 3500], "times_ms": [0, 2000]},
    "spiking_decon": {"operator_ms": 80, "design_window_ms": [200, 1600]},
    "top_mute": {"velocity_m_s": 2000, "t0_ms": 40},
    "tpow": {"power": 2},
    "predictive_decon": {"operator_ms": 120, "gap_ms": 24},
    "fk_filter": {"v_min_m_s": 300, "v_max_m_s": 1500},
    "mute": {"offsets_m": [0, 2000], "times_ms": [100, 900], "side": "bottom"},
    "nmo": {"velocities": str(Path(__file__).with_name("one_location_vel.csv"))},
    "stack": {},
    "phase_shift_migration": {
        "velocities": str(Path(__file__).with_name("one_location_vel.csv")),
        "trace_spacing_m": 12.5},
}


def _context(n_traces: int) -> GatherContext:
    return GatherContext(sample_interval_ms=4.0, offsets_m=np.linspace(-2000, 2000, n_traces))


def test_every_processor_is_registered_under_its_flow_name() -> None:
    assert list(available_processors()) == sorted(EXAMPLE_PARAMS)


def test_aliases_resolve_to_the_canonical_processor_and_are_not_listed_twice() -> None:
    assert isinstance(create_processor("normalise", {}), Normalize)
    assert isinstance(create_processor("trace_balance", {}), Normalize)
    assert "normalise" not in available_processors()


def test_package_exports_exactly_its_public_names() -> None:
    exported = {name for name in dir(processing) if not name.startswith("_")}
    modules = {"amplitude", "base", "decon", "filters", "mute", "flow", "device", "describe",
               "preview", "variants", "fk", "imaging"}
    assert set(processing.__all__) == exported - modules
    assert all(hasattr(processing, name) for name in processing.__all__)


@pytest.mark.parametrize("name", sorted(EXAMPLE_PARAMS))
def test_processor_returns_float32_of_the_gather_shape_from_float64_input(name: str) -> None:
    gather = np.random.default_rng(14).standard_normal((12, 500))
    processor = create_processor(name, EXAMPLE_PARAMS[name])
    processor.check(sample_interval_ms=4.0, n_samples=500)
    out = processor.apply(gather, _context(12))
    assert out.dtype == np.float32
    assert out.shape == (processor.traces_out(12), gather.shape[1])
    assert np.isfinite(out).all()


@pytest.mark.parametrize("name", sorted(EXAMPLE_PARAMS))
def test_processor_leaves_the_input_gather_untouched(name: str) -> None:
    gather = np.random.default_rng(17).standard_normal((12, 500)).astype(np.float32)
    original = gather.copy()
    create_processor(name, EXAMPLE_PARAMS[name]).apply(gather, _context(12))
    np.testing.assert_array_equal(gather, original)


@pytest.mark.parametrize("name", sorted(EXAMPLE_PARAMS))
def test_processor_refuses_a_single_trace_that_is_not_a_2d_gather(name: str) -> None:
    processor = create_processor(name, EXAMPLE_PARAMS[name])
    with pytest.raises(ProcessingError, match="must be 2-D"):
        processor.apply(np.ones(500, np.float32), _context(1))


def test_unknown_field_is_named_with_the_allowed_list() -> None:
    with pytest.raises(ParameterError) as caught:
        create_processor("agc", {"window_ms": 500, "widow_ms": 300})
    assert "agc: unknown field 'widow_ms' (allowed: window_ms, mode)" in str(caught.value)


def test_bandpass_corner_order_violation_names_the_rule_and_the_values() -> None:
    with pytest.raises(ParameterError) as caught:
        create_processor("bandpass", {"f1": 5, "f2": 10, "f3": 90, "f4": 80})
    message = str(caught.value)
    assert "0 <= f1 < f2 <= f3 < f4" in message
    assert "f3=90.0, f4=80.0" in message


def test_missing_required_field_is_named() -> None:
    with pytest.raises(ParameterError, match="field 'f4' is required"):
        create_processor("bandpass", {"f1": 5, "f2": 10, "f3": 60})


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("agc", {"window_ms": "half a second"}, "window_ms"),
        ("butterworth", {"high_hz": 30, "order": "four"}, "order"),
        ("spherical_divergence", {"velocities_m_s": 2000, "times_ms": [0]}, "velocities_m_s"),
        ("normalize", {"window_ms": [1, 2, 3]}, "window_ms"),
    ],
)
def test_wrong_type_is_refused_naming_the_field(
    name: str, params: dict[str, Any], field: str
) -> None:
    with pytest.raises(ParameterError, match=f"{name}: field '{field}"):
        create_processor(name, params)


def test_out_of_range_value_is_refused() -> None:
    with pytest.raises(ParameterError, match="window_ms"):
        create_processor("agc", {"window_ms": 0})


def test_unknown_processor_suggests_the_nearest_name() -> None:
    with pytest.raises(FlowError, match="Did you mean 'bandpass'"):
        create_processor("bandpas", {})


def test_describe_names_the_processor_and_its_parameters() -> None:
    assert (
        create_processor("agc", {"window_ms": 500}).describe() == "agc(window_ms=500.0, mode=rms)"
    )
