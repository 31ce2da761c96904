"""Array-namespace helpers shared by the processors.

Processors are written once against the Python array API. The few operations where the
generic route is slow or missing dispatch here on the array type: numpy arrays use
``scipy.fft`` (about 3x faster than ``numpy.fft`` on gathers) and ``scipy.ndimage``;
torch tensors use ``torch.fft`` and ``torch.nn.functional`` on whatever device they live
on. torch is imported only when a torch tensor arrives, so it stays optional.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat
import numpy as np
import scipy.fft
from scipy.ndimage import uniform_filter1d

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
    return int(scipy.fft.next_fast_len(n, real=True))


def rfft(x: Array, n: int) -> Array:
    """Real FFT along the last axis, zero-padded to ``n`` samples."""
    if isinstance(x, np.ndarray):
        return scipy.fft.rfft(x, n=n, axis=-1)
    return namespace(x).fft.rfft(x, n=n, axis=-1)


def irfft(spectrum: Array, n: int) -> Array:
    """Inverse of :func:`rfft`: ``n`` real samples along the last axis."""
    if isinstance(spectrum, np.ndarray):
        return scipy.fft.irfft(spectrum, n=n, axis=-1)
    return namespace(spectrum).fft.irfft(spectrum, n=n, axis=-1)


def moving_mean(x: Array, width: int) -> Array:
    """Centred moving mean along the last axis over an odd ``width`` of samples.

    Windows are truncated at the trace ends: near an end the mean is taken over the
    samples that exist, not over zero padding. The cost does not grow with ``width`` on
    numpy (a running sum in double precision).
    """
    if width < 1 or width % 2 == 0:
        raise ValueError(f"moving-mean width must be a positive odd number, got {width}")
    n = x.shape[-1]
    width = min(width, 2 * n - 1)  # wider windows all cover the whole trace
    if isinstance(x, np.ndarray):
        return _moving_mean_numpy(x, width)
    return _moving_mean_torch(x, width)


def _moving_mean_numpy(x: np.ndarray, width: int) -> np.ndarray:
    n = x.shape[-1]
    half = width // 2
    index = np.arange(n)
    count = np.minimum(index + half, n - 1) - np.maximum(index - half, 0) + 1
    padded_mean = uniform_filter1d(x, width, axis=-1, mode="constant", cval=0.0)
    mean: np.ndarray = padded_mean * (width / count).astype(x.dtype)
    return mean


def _moving_mean_torch(x: Array, width: int) -> Array:
    """Running sums where the device has float64 (as on numpy: the cost does not grow
    with ``width``; ``avg_pool1d`` costs ``width`` operations per sample, 40x numpy's time
    for a 500 ms AGC at 2 ms on a CPU); ``avg_pool1d`` on MPS, whose float32 running sums
    would lose the small late amplitudes to cancellation."""
    import torch

    dtype = precise_dtype(x)
    if dtype is not torch.float64:
        return _moving_mean_pooled(x, width)
    n, half = x.shape[-1], width // 2
    sums = torch.nn.functional.pad(torch.cumsum(x.to(dtype), dim=-1), (1, 0))
    index = torch.arange(n, device=x.device)
    stop = torch.clamp(index + half + 1, max=n)
    start = torch.clamp(index - half, min=0)
    mean = (sums[..., stop] - sums[..., start]) / (stop - start).to(dtype)
    return mean.to(x.dtype)


def _moving_mean_pooled(x: Array, width: int) -> Array:
    import torch.nn.functional as functional

    batch_shape = x.shape[:-1]
    flat = x.reshape(math.prod(batch_shape), 1, x.shape[-1])
    mean = functional.avg_pool1d(
        flat, kernel_size=width, stride=1, padding=width // 2, count_include_pad=False
    )
    return mean.reshape(x.shape)
