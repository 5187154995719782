"""The alert review workflow as data: which moves exist, where each leads, what the ledger calls it.

One table serves the service (status changes and ledger events), the API (the actions an alert
offers its reader) and the policy's state sets, so a state is named once, by ``AlertStatus``.
Who may make a move from which state is the policy table's (``collusion.alert.<move>``).
"""

from __future__ import annotations

from dataclasses import dataclass

from collusion.models import AlertStatus

S = AlertStatus

# State sets the policy rows need (staff work on open alerts, supervisors decide escalated ones).
OPEN = frozenset({S.NEW, S.UNDER_REVIEW})  # may be assigned or escalated
NEW = frozenset({S.NEW})  # review may start
IN_REVIEW = frozenset({S.UNDER_REVIEW})  # staff may decide
ESCALATED = frozenset({S.ESCALATED})  # the supervisor may decide
UNDECIDED = OPEN | ESCALATED  # comments are still useful
DECIDED = frozenset({S.CONFIRMED, S.DISMISSED})


@dataclass(frozen=True)
class Move:
    name: str  # the API's verb, and the policy action ``collusion.alert.<name>``
    to: AlertStatus | None  # None: the status stays
    event: str  # ledger kind ``collusion.alert_<event>``

    @property
    def action(self) -> str:
        return f"collusion.alert.{self.name}"


ASSIGN = Move("assign", None, "assigned")
REVIEW = Move("review", S.UNDER_REVIEW, "review_started")
COMMENT = Move("comment", None, "commented")
CONFIRM = Move("confirm", S.CONFIRMED, "confirmed")
DISMISS = Move("dismiss", S.DISMISSED, "dismissed")
ESCALATE = Move("escalate", S.ESCALATED, "escalated")
MOVES = (ASSIGN, REVIEW, COMMENT, CONFIRM, DISMISS, ESCALATE)
# Not a move a reader makes: the detector opening (or refreshing) an alert.
OPENED = Move("open", S.NEW, "opened")
