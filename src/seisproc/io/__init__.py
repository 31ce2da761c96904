"""SEG-Y input and output: headers, gathers, writing outputs, synthetic surveys."""

from seisproc.io.claim import (
    OutputClaim,
    OutputClaimed,
    claim_output,
    claim_path,
    read_claim,
    release_claim,
)
from seisproc.io.headers import HeaderField, header_field, known_header_keys
from seisproc.io.index import GatherIndex, build_index, gather_index
from seisproc.io.segy import SegyFile, SegyLayout, open_segy
from seisproc.io.synth import SurveyGeometry, synthesize_survey
from seisproc.io.writer import SegyWriter, commit_output, create_output, discard_output

__all__ = [
    "GatherIndex",
    "HeaderField",
    "OutputClaim",
    "OutputClaimed",
    "SegyFile",
    "SegyLayout",
    "SegyWriter",
    "SurveyGeometry",
    "build_index",
    "claim_output",
    "claim_path",
    "commit_output",
    "create_output",
    "discard_output",
    "gather_index",
    "header_field",
    "known_header_keys",
    "open_segy",
    "read_claim",
    "release_claim",
    "synthesize_survey",
]
