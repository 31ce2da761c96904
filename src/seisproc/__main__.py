"""``python -m seisproc`` is the ``seisproc`` command."""

from seisproc.cli.main import main

main()
