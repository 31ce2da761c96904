"""Mutes: zero the parts of a gather that hold noise rather than reflections."""

from __future__ import annotations

import math

import numpy as np
import pydantic

from seisproc.errors import ProcessingError
from seisproc.processing._backend import Array, as_gather, device, from_numpy
from seisproc.processing.base import GatherContext, Processor, ProcessorParams, register

__all__ = ["TopMute", "TopMuteParams"]


class TopMuteParams(ProcessorParams):
    """The mute line ``t0_ms + |offset| / velocity_m_s`` and the taper after it."""

    velocity_m_s: float = pydantic.Field(gt=0, description="Slope of the mute line, m/s.")
    t0_ms: float = pydantic.Field(0.0, description="Mute time at zero offset, ms.")
    taper_ms: float = pydantic.Field(20.0, ge=0, description="Cosine ramp after the line, ms.")


@register
class TopMute(Processor):
    """Linear-moveout top mute, with a cosine taper.

    On each trace the mute time is ``t_mute = t0_ms + 1000 * |offset| / velocity_m_s``
    (ms; offset in metres from the ``offset`` trace header). Samples earlier than
    ``t_mute`` are zeroed; the next ``taper_ms`` milliseconds are scaled by a half-Hann
    ramp rising from 0 at ``t_mute`` to 1, and later samples are kept as they are. This
    removes first breaks and refractions that arrive along a line of constant slope.

    Examples
    --------
    >>> import numpy as np
    >>> from seisproc.processing import GatherContext, create_processor
    >>> mute = create_processor("top_mute", {"velocity_m_s": 1000, "taper_ms": 0})
    >>> context = GatherContext(sample_interval_ms=4.0, offsets_m=np.array([0.0, -8.0]))
    >>> mute.apply(np.ones((2, 4), np.float32), context)
    array([[1., 1., 1., 1.],
           [0., 0., 1., 1.]], dtype=float32)
    """

    name = "top_mute"
    Params = TopMuteParams
    params: TopMuteParams

    def mute_samples(self, offsets_m: np.ndarray, sample_interval_ms: float) -> np.ndarray:
        """Each trace's mute time, in (fractional) samples from the first sample."""
        p = self.params
        distance_m = np.abs(np.asarray(offsets_m, dtype=np.float64))
        mute_ms = p.t0_ms + 1000.0 * distance_m / p.velocity_m_s
        return mute_ms / sample_interval_ms

    def apply(self, gather: Array, context: GatherContext) -> Array:
        xp, x = as_gather(gather)
        offsets = _offsets_for(x, context)
        start = from_numpy(self.mute_samples(offsets, context.sample_interval_ms), x)[:, None]
        index = xp.arange(x.shape[-1], dtype=xp.float32, device=device(x))[None, :]
        after = index - start  # samples past the mute line
        taper_samples = self.params.taper_ms / context.sample_interval_ms
        if taper_samples == 0:
            weight = xp.astype(after >= 0, xp.float32)
        else:
            ramp = xp.clip(after / taper_samples, min=0.0, max=1.0)
            weight = 0.5 - 0.5 * xp.cos(math.pi * ramp)
        return x * weight


def _offsets_for(x: Array, context: GatherContext) -> np.ndarray:
    if context.offsets_m is None:
        raise ProcessingError(
            "top_mute needs the `offset` trace header, but no offsets came with this gather"
        )
    offsets = np.asarray(context.offsets_m)
    if offsets.shape != (x.shape[0],):
        raise ProcessingError(
            f"top_mute: {offsets.shape} offsets for a gather of {x.shape[0]} traces; "
            "expected one offset per trace"
        )
    return offsets
