"""The ``seisproc`` command."""

from seisproc.cli.main import cli, main

__all__ = ["cli", "main"]
