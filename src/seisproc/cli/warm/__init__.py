"""Warm commands: a server that has already imported what a job command needs runs
each ``seisproc run`` (``resume``, ``replay``, ...) in a fork of itself, with the
caller's terminal, folder and environment; the caller stays as its stand-in."""
