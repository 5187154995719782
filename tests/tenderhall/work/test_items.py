"""Work items' urgency and order (pure)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tenderhall.work.items import Urgency, WorkItem, ordered, urgency_of

NOW = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)


def test_urgency_follows_the_time_left() -> None:
    assert urgency_of(None, NOW) is Urgency.LATER
    assert urgency_of(NOW - timedelta(seconds=1), NOW) is Urgency.OVERDUE
    assert urgency_of(NOW, NOW) is Urgency.NOW
    assert urgency_of(NOW + timedelta(hours=24), NOW) is Urgency.NOW
    assert urgency_of(NOW + timedelta(hours=25), NOW) is Urgency.SOON
    assert urgency_of(NOW + timedelta(days=3), NOW) is Urgency.SOON
    assert urgency_of(NOW + timedelta(days=3, seconds=1), NOW) is Urgency.LATER


def test_the_most_urgent_and_nearest_come_first_and_the_order_is_stable() -> None:
    def item(kind: str, urgency: Urgency, hours: int | None, ref: str = "") -> WorkItem:
        deadline = NOW + timedelta(hours=hours) if hours is not None else None
        return WorkItem(kind, "t", "/", urgency, deadline, uuid.uuid4(), ref)

    later_no_deadline = item("a", Urgency.LATER, None)
    later_far = item("b", Urgency.LATER, 200)
    now_late = item("c", Urgency.NOW, 20)
    now_early = item("d", Urgency.NOW, 2)
    overdue = item("e", Urgency.OVERDUE, -5)
    info = item("f", Urgency.INFO, 1)
    same_b = item("g", Urgency.SOON, 30, "B")
    same_a = item("g", Urgency.SOON, 30, "A")
    shuffled = [info, later_no_deadline, same_b, now_late, later_far, overdue, same_a, now_early]
    assert ordered(shuffled) == [
        overdue,
        now_early,
        now_late,
        same_a,
        same_b,
        later_far,
        later_no_deadline,
        info,
    ]
    assert ordered(list(reversed(shuffled))) == ordered(shuffled)
