"""The flow editor: processing flows built from the processor registry, validated live.

:class:`FlowEditor` is the widget the application shows; :class:`ParamForm` is the form it
generates for one processor from that processor's parameter model; a :class:`Problem` is
one thing wrong, with the step and the field it marks.
"""

from seisproc.gui.flow_editor.editor import FlowEditor
from seisproc.gui.flow_editor.param_form import ParamForm
from seisproc.gui.flow_editor.problems import Problem

__all__ = ["FlowEditor", "ParamForm", "Problem"]
