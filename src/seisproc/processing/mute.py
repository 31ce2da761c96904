"""Mutes: zero the parts of a gather that hold noise rather than reflections."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import numpy as np
import pydantic

from seisproc.errors import ProcessingError
from seisproc.processing._backend import Array, as_gather, device, from_numpy
from seisproc.processing.base import GatherContext, Processor, ProcessorParams, register

__all__ = ["TopMute", "TopMuteParams", "PickedMute", "PickedMuteParams"]


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
    starting_params = {"velocity_m_s": 1800.0}
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


def _offsets_for(x: Array, context: GatherContext, name: str = "top_mute") -> np.ndarray:
    if context.offsets_m is None:
        raise ProcessingError(
            f"{name} needs the `offset` trace header, but no offsets came with this gather"
        )
    offsets = np.asarray(context.offsets_m)
    if offsets.shape != (x.shape[0],):
        raise ProcessingError(
            f"{name}: {offsets.shape} offsets for a gather of {x.shape[0]} traces; "
            "expected one offset per trace"
        )
    return offsets


class PickedMuteParams(ProcessorParams):
    """A mute line picked as (offset, time) pairs, which side it mutes, and its taper."""

    offsets_m: list[pydantic.NonNegativeFloat] = pydantic.Field(
        min_length=1, description="Absolute offsets of the picks, m, increasing.")
    times_ms: list[float] = pydantic.Field(
        min_length=1, description="Mute time at each pick's offset, ms.")
    side: Literal["top", "bottom"] = pydantic.Field(
        "top", description="Mute above the line (top) or below it (bottom).")
    taper_ms: float = pydantic.Field(20.0, ge=0, description="Cosine ramp on the kept side, ms.")

    @pydantic.model_validator(mode="after")
    def _picks_in_offset_order(self) -> PickedMuteParams:
        if len(self.offsets_m) != len(self.times_ms):
            raise ValueError(
                f"offsets_m has {len(self.offsets_m)} values but times_ms has "
                f"{len(self.times_ms)}; give one time per offset"
            )
        if any(b <= a for a, b in zip(self.offsets_m, self.offsets_m[1:], strict=False)):
            raise ValueError(f"offsets_m must increase strictly; got {self.offsets_m}")
        return self


@register
class PickedMute(Processor):
    """Mute along a line picked as (offset, time) pairs, top or bottom, with a taper.

    Each trace's mute time interpolates the picks linearly at its absolute offset (the
    ``offset`` header), constant beyond the first and last pick. Times count from time
    zero: the first sample is at the trace's ``delrt``. ``side: top`` zeroes the samples
    before the line and ramps the next ``taper_ms`` up by a half-Hann; ``side: bottom``
    zeroes the samples after it and ramps the ``taper_ms`` before it down.

    Examples
    --------
    >>> import numpy as np
    >>> from seisproc.processing import GatherContext, create_processor
    >>> mute = create_processor("mute", {"offsets_m": [0, 1000], "times_ms": [4, 12],
    ...                                  "side": "bottom", "taper_ms": 0})
    >>> context = GatherContext(sample_interval_ms=4.0, offsets_m=np.array([0.0, -500.0]))
    >>> mute.apply(np.ones((2, 4), np.float32), context)
    array([[1., 1., 0., 0.],
           [1., 1., 1., 0.]], dtype=float32)
    """

    name = "mute"
    Params = PickedMuteParams
    params: PickedMuteParams
    starting_params: ClassVar[dict[str, Any]] = {
        "offsets_m": [0.0, 3000.0], "times_ms": [0.0, 1500.0]}  # 2000 m/s, to be picked

    def mute_times_ms(self, offsets_m: np.ndarray) -> np.ndarray:
        """Each trace's mute time, ms from time zero."""
        distance = np.abs(np.asarray(offsets_m, dtype=np.float64))
        times: np.ndarray = np.interp(distance, self.params.offsets_m, self.params.times_ms)
        return times

    def apply(self, gather: Array, context: GatherContext) -> Array:
        xp, x = as_gather(gather)
        offsets = _offsets_for(x, context, self.name)
        delays = context.trace_delays_ms(x.shape[0])
        line = (self.mute_times_ms(offsets) - delays) / context.sample_interval_ms
        index = xp.arange(x.shape[-1], dtype=xp.float32, device=device(x))[None, :]
        after = index - from_numpy(line, x)[:, None]  # samples past the mute line
        if self.params.side == "bottom":
            after = -after
        taper_samples = self.params.taper_ms / context.sample_interval_ms
        if taper_samples == 0:
            weight = xp.astype(after >= 0, xp.float32)
        else:
            ramp = xp.clip(after / taper_samples, min=0.0, max=1.0)
            weight = 0.5 - 0.5 * xp.cos(math.pi * ramp)
        return x * weight
