"""PySide6 6.12.0 on Python 3.11 aborts the interpreter after a few hundred emits.

Each `Signal.emit()` dropped a reference to `True` until `bool_dealloc` killed the
process. We pin `PySide6-Essentials<6.12`; this test is what tells us a new release is
safe (or that the pin was lost): a million emits must leave the interpreter alive.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal(bool)
    counted = Signal(int, str)


def test_a_million_signal_emits_leave_the_interpreter_alive(qapp):
    emitter = _Emitter()
    received = [0]

    def on_fired(value: bool) -> None:
        received[0] += 1

    emitter.fired.connect(on_fired)
    emitter.counted.connect(lambda number, text: None)
    true_refs_before = sys.getrefcount(True)
    for index in range(500_000):
        emitter.fired.emit(True)
        emitter.counted.emit(index, "x")
    assert received[0] == 500_000
    # Each emit must give back the references it takes; immortal objects report a huge
    # constant, mortal ones may drift a little from unrelated code but never by ~500k.
    assert abs(sys.getrefcount(True) - true_refs_before) < 1_000
