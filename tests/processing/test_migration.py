"""Migration against closed forms: a diffraction collapses to its apex, a dipping event
steepens as the migrator's equation says, and a layered earth's diffraction (traced ray
by ray) focuses too, since phase shift is exact for v(z)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seisproc.errors import ParameterError
from seisproc.io.synth_geology import LayeredEarth
from seisproc.processing.imaging import kirchhoff_time_migration, phase_shift_migration

DT_MS, DX_M = 4.0, 12.5
N_X, N_T = 96, 300
APEX_TRACE, APEX_MS = 48, 600.0


def _ricker(t_ms: np.ndarray, peak_hz: float = 25.0) -> np.ndarray:
    arg = (math.pi * peak_hz * t_ms / 1000.0) ** 2
    return (1 - 2 * arg) * np.exp(-arg)


def _section(event_ms: np.ndarray) -> np.ndarray:
    """A section whose trace ``i`` holds one Ricker at ``event_ms[i]``."""
    t = np.arange(N_T) * DT_MS
    return _ricker(t[None, :] - event_ms[:, None]).astype(np.float32)


def _diffraction(velocity_m_s: float) -> np.ndarray:
    distance = (np.arange(N_X) - APEX_TRACE) * DX_M
    return _section(np.sqrt(APEX_MS**2 + (2000.0 * distance / velocity_m_s) ** 2))


def _energy_near(section: np.ndarray, trace: int, sample: int) -> float:
    energy = section.astype(np.float64) ** 2
    return float(energy[trace - 3 : trace + 4, sample - 5 : sample + 6].sum() / energy.sum())


@pytest.mark.parametrize("migrate", [phase_shift_migration, kirchhoff_time_migration])
def test_a_constant_velocity_diffraction_collapses_to_its_apex(migrate) -> None:
    section = _diffraction(2000.0)
    image = migrate(section, DT_MS, DX_M, np.full(N_T, 2000.0))
    apex = round(APEX_MS / DT_MS)
    assert _energy_near(section, APEX_TRACE, apex) < 0.2
    assert _energy_near(image, APEX_TRACE, apex) > 0.6
    peak = np.unravel_index(np.argmax(np.abs(image)), image.shape)
    assert abs(peak[0] - APEX_TRACE) <= 1 and abs(peak[1] - apex) <= 1


def test_phase_shift_focuses_a_diffraction_traced_through_a_layered_earth() -> None:
    earth = LayeredEarth(
        boundaries_m=(250.0, 500.0),
        velocities_m_s=(1600.0, 2400.0, 3200.0),
        reflections=(0.0, 0.0),
        dipping=None,
        diffractor=None,
    )
    depth = 800.0
    lateral = (np.arange(N_X) - APEX_TRACE) * DX_M
    times_ms = 2000.0 * earth.one_way_time_s(lateral, depth)
    section = _section(times_ms)
    vrms = earth.rms_velocity_at(np.arange(N_T) * DT_MS)
    image = phase_shift_migration(section, DT_MS, DX_M, vrms)
    apex = round(times_ms[APEX_TRACE] / DT_MS)
    assert _energy_near(image, APEX_TRACE, apex) > 0.6
    # The hyperbola of the RMS velocity at the apex is not this diffraction's shape:
    # one constant velocity focuses it less than the exact v(z) does.
    constant = phase_shift_migration(section, DT_MS, DX_M, np.full(N_T, vrms[apex]))
    assert _energy_near(constant, APEX_TRACE, apex) < _energy_near(image, APEX_TRACE, apex)


def test_phase_shift_steepens_a_dipping_event_as_the_migrator_equation_says() -> None:
    velocity, slope_s_per_m = 2500.0, 0.0004  # 0.4 ms of two-way time per metre
    x = np.arange(N_X) * DX_M
    section = _section(200.0 + 1000.0 * slope_s_per_m * x)
    image = phase_shift_migration(section, DT_MS, DX_M, np.full(N_T, velocity))
    migrated = slope_s_per_m / math.sqrt(1.0 - (velocity * slope_s_per_m / 2.0) ** 2)
    middle = np.arange(30, 66)  # away from the section's edges
    peaks_ms = np.argmax(image[middle], axis=1) * DT_MS
    measured = np.polyfit(x[middle], peaks_ms / 1000.0, 1)[0]
    assert measured == pytest.approx(migrated, rel=0.05)
    assert abs(measured - slope_s_per_m) > 0.1 * slope_s_per_m  # it did move


def test_kirchhoff_traces_made_one_at_a_time_equal_those_of_the_whole_line() -> None:
    section = _diffraction(2200.0)
    vrms = np.linspace(2000.0, 2600.0, N_T)
    whole = kirchhoff_time_migration(section, DT_MS, DX_M, vrms, aperture_m=400.0)
    some = kirchhoff_time_migration(
        section, DT_MS, DX_M, vrms, aperture_m=400.0, output_traces=np.array([3, 48, 90])
    )
    np.testing.assert_allclose(some, whole[[3, 48, 90]], rtol=1e-6, atol=1e-7)


def test_migration_refuses_velocities_that_do_not_fit_the_section() -> None:
    with pytest.raises(ParameterError, match="need one RMS velocity > 0 per sample"):
        phase_shift_migration(np.zeros((4, 10), np.float32), DT_MS, DX_M, np.full(9, 2000.0))
    with pytest.raises(ParameterError, match="need one RMS velocity > 0 per sample"):
        kirchhoff_time_migration(np.zeros((4, 10), np.float32), DT_MS, DX_M, np.zeros(10))
