"""The flow editor: processing flows built from the processor registry, validated live.

:class:`FlowEditor` is the widget the application shows; :class:`ParamForm` is the form it
generates for one processor from that processor's parameter model.
"""

from seisproc.gui.flow_editor.editor import FlowEditor
from seisproc.gui.flow_editor.param_form import ParamForm

__all__ = ["FlowEditor", "ParamForm"]
