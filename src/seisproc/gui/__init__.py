"""The desktop application: a PySide6 front end over the same engine the CLI drives.

Widgets adapt the core (`JobManager`, `ResourceMonitor`, `AlertManager`, the history
store); they own no job state. Core callbacks arrive on worker threads, so everything that
crosses into Qt goes through `seisproc.gui.bridge`, which re-emits on the GUI thread.
"""
