"""A flow as it is being edited, valid or not, and the autosave that keeps it.

A flow half-written is not a :class:`~seisproc.processing.flow.Flow` (that one is valid by
construction), yet it is what the user would lose if the application stopped: so the
editor keeps a :class:`Draft`, field by field as shown, compares it with the last one
saved to know whether there are unsaved changes, and writes it to
``SEISPROC_HOME/autosave/flow.yaml`` a moment after each change. The next window
restores it. The file is written to a temporary name and renamed over the old one, so
a crash while writing leaves the previous autosave whole; it is private to the user
(``0600``) like everything under the seisproc home.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from seisproc.paths import open_private, private_dir, seisproc_home
from seisproc.processing.flow import Flow

__all__ = ["Draft", "Autosave", "AutosaveError", "default_autosave_path"]

_FORMAT = 1
"""Version of the autosave file; a newer file is not read (it might mean otherwise)."""


class AutosaveError(Exception):
    """The autosave file exists but cannot be read back as a draft."""


def default_autosave_path() -> Path:
    """``SEISPROC_HOME/autosave/flow.yaml``."""
    return seisproc_home() / "autosave" / "flow.yaml"


@dataclass(frozen=True)
class Draft:
    """Everything the editor shows, as typed: texts of the flow's fields and each step's
    explicit parameters. Equal drafts mean nothing was changed."""

    name: str = ""
    input: str = ""
    output: str = ""
    gather_by: str = "ffid"
    device: str = "auto"
    steps: tuple[tuple[str, dict[str, Any]], ...] = field(default_factory=tuple)
    """``(processor, parameters)`` per step, in order."""

    @classmethod
    def from_flow(cls, flow: Flow) -> Draft:
        return cls(
            flow.name,
            str(flow.input),
            str(flow.output),
            flow.gather_by,
            flow.device,
            tuple((step.processor, dict(step.params)) for step in flow.steps),
        )

    def to_mapping(self) -> dict[str, Any]:
        """Laid out like a flow file (``steps`` as ``- processor: {params}``)."""
        return {
            "name": self.name,
            "input": self.input,
            "output": self.output,
            "gather_by": self.gather_by,
            "device": self.device,
            "steps": [{name: dict(params)} for name, params in self.steps],
        }

    @classmethod
    def from_mapping(cls, data: Any) -> Draft:
        """The inverse of :meth:`to_mapping`; :class:`AutosaveError` if it is not one."""
        if not isinstance(data, dict) or not isinstance(data.get("steps", []), list):
            raise AutosaveError("not a flow laid out as the editor writes it")
        steps = []
        for item in data.get("steps", []):
            if not (isinstance(item, dict) and len(item) == 1):
                raise AutosaveError(f"a step is not 'processor: {{parameters}}': {item!r}")
            ((name, params),) = item.items()
            steps.append((str(name), dict(params or {})))
        texts = {key: str(data.get(key) or "") for key in ("name", "input", "output")}
        return cls(
            **texts,
            gather_by=str(data.get("gather_by") or ""),
            device=str(data.get("device") or "auto"),
            steps=tuple(steps),
        )


@dataclass(frozen=True)
class Autosave:
    """One autosave file: the draft, and where the flow's file and folder were."""

    path: Path

    def write(self, draft: Draft, file: Path | None, base_dir: Path) -> None:
        """Replace the autosave with ``draft`` (atomically, ``0600``)."""
        document = {
            "seisproc_flow_editor_autosave": _FORMAT,
            "saved_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "file": str(file) if file else None,
            "base_dir": str(base_dir),
            "flow": draft.to_mapping(),
        }
        private_dir(self.path.parent)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        with os.fdopen(open_private(partial), "w", encoding="utf-8") as stream:
            yaml.safe_dump(document, stream, sort_keys=False)
        os.replace(partial, self.path)

    def read(self) -> tuple[Draft, Path | None, Path, str] | None:
        """``(draft, file, base_dir, saved_at)``; ``None`` when there is no autosave.

        Raises :class:`AutosaveError` when the file is there but is not an autosave.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise AutosaveError(f"{self.path}: {exc}") from None
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise AutosaveError(f"{self.path}: not valid YAML: {exc}") from None
        if (
            not isinstance(document, dict)
            or document.get("seisproc_flow_editor_autosave") != _FORMAT
        ):
            raise AutosaveError(f"{self.path}: not a flow editor autosave of this version")
        try:
            draft = Draft.from_mapping(document.get("flow"))
        except AutosaveError as exc:
            raise AutosaveError(f"{self.path}: {exc}") from None
        file = Path(document["file"]) if document.get("file") else None
        base_dir = Path(document.get("base_dir") or Path.cwd())
        return draft, file, base_dir, str(document.get("saved_at") or "")

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

    def set_aside(self) -> Path:
        """Rename an unreadable autosave out of the way (kept for the user to look at),
        so that it is not offered again."""
        kept = self.path.with_name(self.path.name + ".unreadable")
        os.replace(self.path, kept)
        return kept
