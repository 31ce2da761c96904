"""Processors that transform gathers, and the registry flows find them in by name.

Importing this package registers every built-in processor.
"""

from seisproc.processing.amplitude import AGC, ExpGain, Normalize, SphericalDivergence, TPow
from seisproc.processing.base import (
    GatherContext,
    Processor,
    ProcessorParams,
    available_processors,
    create_processor,
    processor_class,
    register,
)
from seisproc.processing.decon import SpikingDecon
from seisproc.processing.filters import Bandpass, Butterworth
from seisproc.processing.flow import Flow, Step, load_flow
from seisproc.processing.mute import TopMute

__all__ = [
    "GatherContext",
    "ProcessorParams",
    "Processor",
    "register",
    "processor_class",
    "available_processors",
    "create_processor",
    "Flow",
    "Step",
    "load_flow",
    "AGC",
    "Bandpass",
    "Butterworth",
    "ExpGain",
    "Normalize",
    "SphericalDivergence",
    "SpikingDecon",
    "TopMute",
    "TPow",
]
