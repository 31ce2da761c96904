"""The Qt bridge delivers core callbacks on the GUI thread, coalesced."""

from __future__ import annotations

import threading

from PySide6.QtCore import QThread

from seisproc.gui.bridge import CoalescingBridge


def test_items_posted_from_worker_threads_arrive_on_the_gui_thread_in_order(qtbot):
    bridge: CoalescingBridge[int] = CoalescingBridge(interval_ms=10)
    batches: list[list[int]] = []
    threads_seen: set[QThread] = set()

    def on_delivered(batch: list[int]) -> None:
        threads_seen.add(QThread.currentThread())
        batches.append(batch)

    bridge.delivered.connect(on_delivered)
    poster = threading.Thread(target=lambda: [bridge.post(n) for n in range(1_000)])
    poster.start()
    poster.join()
    qtbot.waitUntil(lambda: sum(map(len, batches)) == 1_000, timeout=2_000)

    assert [n for batch in batches for n in batch] == list(range(1_000))
    assert threads_seen == {bridge.thread()}
    assert len(batches) < 50  # coalesced, not one delivery per item


def test_a_keyed_bridge_keeps_only_the_latest_item_per_key(qtbot):
    bridge: CoalescingBridge[tuple[str, int]] = CoalescingBridge(
        interval_ms=10, key=lambda item: item[0])
    with qtbot.waitSignal(bridge.delivered, timeout=2_000) as delivered:
        for value in range(100):
            bridge.post(("job-a", value))
            bridge.post(("job-b", value))
    assert delivered.args[0] == [("job-a", 99), ("job-b", 99)]


def test_nothing_is_delivered_when_nothing_was_posted(qtbot):
    bridge: CoalescingBridge[int] = CoalescingBridge(interval_ms=10)
    with qtbot.assertNotEmitted(bridge.delivered, wait=50):
        bridge.flush()
