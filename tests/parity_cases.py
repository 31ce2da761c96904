"""Processor parameters whose torch results must match numpy's: one example of each
processor and of each mode that takes another code path. Shared by the torch-CPU parity
tests and the GPU workers' parity tests, so both cover the same cases."""

from __future__ import annotations

from typing import Any

CASES: list[tuple[str, dict[str, Any]]] = [
    ("bandpass", {"f1": 5, "f2": 10, "f3": 60, "f4": 80}),
    ("butterworth", {"low_hz": 8, "high_hz": 60, "order": 4}),
    ("butterworth", {"high_hz": 30, "order": 10}),
    ("agc", {"window_ms": 500}),
    ("agc", {"window_ms": 64, "mode": "mean_abs"}),
    ("tpow", {"power": 2}),
    ("exp_gain", {"db_per_s": 12}),
    ("spherical_divergence", {"velocities_m_s": [1800, 3500], "times_ms": [100, 2000]}),
    ("normalize", {"method": "max", "window_ms": [200, 1200]}),
    ("normalize", {"method": "rms"}),
    ("top_mute", {"velocity_m_s": 2000, "t0_ms": 40, "taper_ms": 24}),
    ("top_mute", {"velocity_m_s": 2000, "taper_ms": 0}),
    ("spiking_decon", {"operator_ms": 120}),
    ("spiking_decon", {"operator_ms": 80, "design_window_ms": [300, 1500]}),
]
