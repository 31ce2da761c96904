"""The same processors on torch tensors agree with numpy and stay torch tensors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from parity_cases import CASES
from seisproc.processing import GatherContext, create_processor
from seisproc.processing._backend import moving_mean

torch = pytest.importorskip("torch")



def _gather() -> np.ndarray:
    rng = np.random.default_rng(15)
    gather = rng.standard_normal((24, 1001)) * np.exp(-np.arange(1001) / 400.0)
    gather[5] = 0.0  # a dead trace
    return (100.0 * gather).astype(np.float32)


@pytest.mark.parametrize(
    ("name", "params"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
)
def test_processor_on_a_torch_tensor_matches_numpy_and_returns_a_tensor(
    name: str, params: dict[str, Any]
) -> None:
    gather = _gather()
    context = GatherContext(sample_interval_ms=2.0, offsets_m=np.linspace(-1500, 2500, 24))
    processor = create_processor(name, params)
    expected = processor.apply(gather, context)
    out = processor.apply(torch.from_numpy(gather), context)
    assert isinstance(out, torch.Tensor)
    assert out.dtype == torch.float32
    assert out.shape == gather.shape
    np.testing.assert_allclose(
        out.numpy(), expected, rtol=1e-5, atol=1e-5 * float(np.abs(expected).max())
    )


def _gather_with_bad_huge_and_tiny_samples() -> np.ndarray:
    gather = _gather()
    gather[2, 500] = np.nan  # inside normalize's design window
    gather[7, 3] = np.inf  # outside it, and where AGC's window is cut short
    gather[9, 1000] = -np.inf
    gather[11, 300] = np.nan
    gather[11, 900] = np.inf
    gather[13] *= np.float32(1e30)  # squares overflow float32
    gather[15] *= np.float32(1e-30)  # squares underflow float32
    return gather


AMPLITUDE_CASES = [(n, p) for n, p in CASES if n in ("agc", "normalize")]


@pytest.mark.parametrize(
    ("name", "params"),
    AMPLITUDE_CASES,
    ids=[f"{n}-{i}" for i, (n, _) in enumerate(AMPLITUDE_CASES)],
)
def test_amplitude_processors_on_torch_spoil_the_same_samples_as_numpy(
    name: str, params: dict[str, Any]
) -> None:
    gather = _gather_with_bad_huge_and_tiny_samples()
    context = GatherContext(sample_interval_ms=2.0)
    processor = create_processor(name, params)
    expected = processor.apply(gather, context)
    out = processor.apply(torch.from_numpy(gather), context).numpy()
    np.testing.assert_array_equal(np.isfinite(out), np.isfinite(expected))
    assert np.isfinite(expected[[13, 15]]).all()
    kept = np.isfinite(expected)
    np.testing.assert_allclose(out[kept], expected[kept], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("width", [1, 3, 101, 999, 5001])
def test_moving_mean_with_truncated_windows_agrees_between_scipy_and_torch(width: int) -> None:
    x = np.random.default_rng(16).standard_normal((4, 1000)).astype(np.float32) ** 2
    expected = moving_mean(x, width)
    out = moving_mean(torch.from_numpy(x), width)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)
    half = width // 2
    assert expected[0, 0] == pytest.approx(np.mean(x[0, : half + 1]), rel=1e-5)
