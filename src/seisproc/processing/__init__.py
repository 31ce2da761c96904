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
from seisproc.processing.decon import PredictiveDecon, SpikingDecon
from seisproc.processing.describe import ProcessorSpec, describe_processor
from seisproc.processing.filters import Bandpass, Butterworth
from seisproc.processing.fk import FKFilter
from seisproc.processing.flow import Flow, Step, load_flow
from seisproc.processing.imaging import NMO, PhaseShiftMigration, Stack
from seisproc.processing.mute import PickedMute, TopMute
from seisproc.processing.preview import GatherPreview, amplitude_spectrum, preview_gather, run_steps

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
    "ProcessorSpec",
    "describe_processor",
    "NMO",
    "PhaseShiftMigration",
    "Stack",
    "GatherPreview",
    "preview_gather",
    "run_steps",
    "amplitude_spectrum",
    "AGC",
    "Bandpass",
    "Butterworth",
    "ExpGain",
    "FKFilter",
    "Normalize",
    "PickedMute",
    "PredictiveDecon",
    "SphericalDivergence",
    "SpikingDecon",
    "TopMute",
    "TPow",
]
