"""Array-namespace helpers shared by the processors.

Processors are written once against the Python array API. The few operations where the
generic route is slow or missing dispatch here on the array type: numpy arrays use
``scipy.fft`` (about 3x faster than ``numpy.fft`` on gathers) and ``scipy.ndimage``;
torch tensors use ``torch.fft`` and ``torch.nn.functional`` on whatever device they live
on. torch is imported only when a torch tensor arrives, so it stays optional; scipy only
when a numpy kernel first runs, so that the driver of a job, which validates a flow but
never runs it, does not pay half a second for it on every command.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat
import numpy as np

from seisproc.errors import ProcessingError

__all__ = [
    "Array",
    "namespace",
    "device",
    "as_gather",
    "from_numpy",
    "fast_length",
    "rfft",
    "irfft",
    "moving_mean",
    "moving_rms",
    "precise_dtype",
    "time_window",
    "sample_times_s",
]

Array = Any
"""A numpy array or a torch tensor (any array-API array)."""


def namespace(x: Array) -> Any:
    """The array-API namespace of ``x`` (numpy or torch, via array-api-compat)."""
    return array_api_compat.array_namespace(x)


def device(x: Array) -> Any:
    """The device ``x`` lives on ("cpu" for numpy), for creating arrays beside it."""
    return array_api_compat.device(x)


def as_gather(gather: Array) -> tuple[Any, Array]:
    """The namespace of ``gather`` and the gather as float32, checked to be 2-D."""
    xp = namespace(gather)
    if gather.ndim != 2:
        raise ProcessingError(
            f"a gather must be 2-D (n_traces, n_samples); got shape {tuple(gather.shape)}"
        )
    return xp, xp.asarray(gather, dtype=xp.float32)


def from_numpy(values: np.ndarray, like: Array, dtype: Any = None) -> Array:
    """``values`` (host numpy) moved into the namespace and onto the device of ``like``."""
    xp = namespace(like)
    dtype = xp.float32 if dtype is None else dtype
    host = np.ascontiguousarray(values, dtype=np.float64)
    return xp.asarray(host, dtype=dtype, device=device(like))


def precise_dtype(like: Array) -> Any:
    """float64 where the device has it, float32 on Apple's MPS, which has no float64."""
    xp = namespace(like)
    if array_api_compat.is_torch_array(like) and like.device.type == "mps":
        return xp.float32
    return xp.float64


def sample_times_s(n_samples: int, sample_interval_ms: float) -> np.ndarray:
    """Time of each sample in seconds, the first sample at 0 (float64, host)."""
    return np.arange(n_samples, dtype=np.float64) * (sample_interval_ms / 1000.0)


def time_window(window_ms: tuple[float, float], sample_interval_ms: float, n_samples: int) -> slice:
    """Samples from ``start`` to ``end`` ms inclusive, rounded to the nearest sample."""
    start = round(window_ms[0] / sample_interval_ms)
    stop = min(round(window_ms[1] / sample_interval_ms) + 1, n_samples)
    return slice(start, max(start, stop))


def fast_length(n: int) -> int:
    """The smallest length >= ``n`` that real FFTs compute quickly (2, 3, 5 factors)."""
    import scipy.fft

    return int(scipy.fft.next_fast_len(n, real=True))


def rfft(x: Array, n: int) -> Array:
    """Real FFT along the last axis, zero-padded to ``n`` samples."""
    if isinstance(x, np.ndarray):
        import scipy.fft

        return scipy.fft.rfft(x, n=n, axis=-1)
    return namespace(x).fft.rfft(x, n=n, axis=-1)


def irfft(spectrum: Array, n: int) -> Array:
    """Inverse of :func:`rfft`: ``n`` real samples along the last axis."""
    if isinstance(spectrum, np.ndarray):
        import scipy.fft

        return scipy.fft.irfft(spectrum, n=n, axis=-1)
    return namespace(spectrum).fft.irfft(spectrum, n=n, axis=-1)


def moving_mean(x: Array, width: int) -> Array:
    """Centred moving mean along the last axis over an odd ``width`` of samples.

    Windows are truncated at the trace ends: near an end the mean is taken over the
    samples that exist, not over zero padding. The sums are running sums in double
    precision (single on Apple's MPS), so the cost does not grow with ``width``. A NaN
    or Inf sample makes the mean NaN in the windows that hold it and nowhere else: every
    other mean is what it would be were that sample 0. The mean comes back in ``x``'s
    dtype.
    """
    width = _checked_width(width, x.shape[-1])
    if isinstance(x, np.ndarray):
        return _moving_mean_numpy(x, width, x.dtype)
    return _moving_mean_torch(x.to(precise_dtype(x)), width).to(x.dtype)


def moving_rms(x: Array, width: int) -> Array:
    """Centred moving RMS of float32 ``x``, as :func:`moving_mean` of ``x**2``, float32.

    The squares are taken in double precision, so amplitudes up to float32's largest do
    not overflow; the RMS itself always fits float32. On Apple's MPS, which has no
    float64, a square above float32's range counts as an Inf sample: its windows are NaN.
    """
    width = _checked_width(width, x.shape[-1])
    if isinstance(x, np.ndarray):
        return _moving_rms_numpy(x, width)
    import torch

    wide = x.to(precise_dtype(x))
    mean_square = torch.clamp(_moving_mean_torch(wide * wide, width), min=0.0)
    return torch.sqrt(mean_square).to(torch.float32)


def _checked_width(width: int, n: int) -> int:
    if width < 1 or width % 2 == 0:
        raise ValueError(f"moving-mean width must be a positive odd number, got {width}")
    return min(width, 2 * n - 1)  # wider windows all cover the whole trace


def _moving_rms_numpy(x: np.ndarray, width: int) -> np.ndarray:
    """Squares in float64, their window means in float32, whose square roots cost a
    third of float64 ones on this hot path. So that no mean leaves float32's range, each
    trace's squares are first scaled by the power of two that brings its peak square
    near 2**120: windows from the peak down to 1e-36 of it keep float32 precision."""
    peak = np.maximum(x.max(axis=-1, keepdims=True), -x.min(axis=-1, keepdims=True))
    bad = ~np.isfinite(peak[..., 0])
    if bad.any():  # NaN or Inf samples: scale those traces to their other samples
        traces = x[bad]
        peak[bad] = np.max(
            np.abs(traces), axis=-1, keepdims=True, where=np.isfinite(traces), initial=0.0
        )
    shift = np.maximum(np.frexp(peak)[1] - 60, -126)  # 2**shift stays a normal float32
    squares = np.square(x, dtype=np.float64)
    squares *= np.ldexp(1.0, -2 * shift)
    mean_square = _moving_mean_numpy(squares, width, np.float32)
    np.abs(mean_square, out=mean_square)  # a running sum may end a rounding below 0
    rms: np.ndarray = np.sqrt(mean_square, out=mean_square)
    rms *= np.ldexp(np.float32(1.0), shift)
    return rms


def _moving_mean_numpy(x: np.ndarray, width: int, dtype: Any) -> np.ndarray:
    """The mean in ``dtype``, which must hold every mean.

    The fast first pass shows a NaN or Inf sample as a non-finite mean. Only the traces
    that hold one are redone, with those samples set to 0 so that their other windows
    get what they would without them, and the windows that hold one are marked NaN.
    """
    mean = _truncated_window_mean(x, width, dtype)
    redo = ~np.isfinite(mean.max(axis=-1))
    if not redo.any():
        return mean
    finite = np.isfinite(x[redo])
    redone = _truncated_window_mean(np.where(finite, x[redo], 0.0), width, dtype)
    redone[_window_counts(~finite, width) > 0] = np.nan
    mean[redo] = redone
    return mean


def _truncated_window_mean(x: np.ndarray, width: int, dtype: Any) -> np.ndarray:
    """``uniform_filter1d``'s zero-padded mean (a double-precision running sum), rescaled
    where the window runs past a trace end to the mean of the samples that exist."""
    from scipy.ndimage import uniform_filter1d

    mean: np.ndarray = uniform_filter1d(x, width, axis=-1, output=dtype, mode="constant")
    n, half = x.shape[-1], width // 2  # half < n: the width is at most 2n - 1
    scale = (width / _window_counts(np.ones(n, dtype=bool), width)).astype(dtype)
    tail = max(half, n - half)  # slices, not a mask: a tenth of AGC's time otherwise
    mean[..., :half] *= scale[:half]
    mean[..., tail:] *= scale[tail:]
    return mean


def _window_counts(flags: np.ndarray, width: int) -> np.ndarray:
    """How many ``flags`` are set in each centred, truncated window (exact integers)."""
    n, half = flags.shape[-1], width // 2
    running = np.zeros((*flags.shape[:-1], n + 1), dtype=np.int64)
    np.cumsum(flags, axis=-1, out=running[..., 1:])
    index = np.arange(n)
    stop = np.minimum(index + half + 1, n)
    start = np.maximum(index - half, 0)
    counts: np.ndarray = running[..., stop] - running[..., start]
    return counts


def _moving_mean_torch(x: Array, width: int) -> Array:
    """The mean of the finite samples' running sums, NaN where a window holds a NaN or
    Inf. No early exit for clean data: the check would cost a device-to-host sync."""
    import torch

    finite = torch.isfinite(x)
    clean = torch.where(finite, x, 0.0)
    spoiled = _window_means_torch((~finite).to(x.dtype), width) > 0
    return torch.where(spoiled, torch.nan, _window_means_torch(clean, width))


def _window_means_torch(x: Array, width: int) -> Array:
    """Running sums where ``x`` is float64 (as on numpy: the cost does not grow with
    ``width``; ``avg_pool1d`` costs ``width`` operations per sample, 40x numpy's time
    for a 500 ms AGC at 2 ms on a CPU); ``avg_pool1d`` on MPS, which has no float64 and
    whose float32 running sums would lose the small late amplitudes to cancellation."""
    import torch

    if x.dtype is not torch.float64:
        return _moving_mean_pooled(x, width)
    n, half = x.shape[-1], width // 2
    sums = torch.nn.functional.pad(torch.cumsum(x, dim=-1), (1, 0))
    index = torch.arange(n, device=x.device)
    stop = torch.clamp(index + half + 1, max=n)
    start = torch.clamp(index - half, min=0)
    return (sums[..., stop] - sums[..., start]) / (stop - start).to(x.dtype)


def _moving_mean_pooled(x: Array, width: int) -> Array:
    import torch.nn.functional as functional

    batch_shape = x.shape[:-1]
    flat = x.reshape(math.prod(batch_shape), 1, x.shape[-1])
    mean = functional.avg_pool1d(
        flat, kernel_size=width, stride=1, padding=width // 2, count_include_pad=False
    )
    return mean.reshape(x.shape)
