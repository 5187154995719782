"""Collusion's rows of the policy table (DESIGN §7); the kernel assembles the one table.

Objects, all built by collusion.access:
- Resource(kind="collusion_alert", state=<alert status>, region_id, centre_id of the tender's
  centre): alerts exist only for centre staff and supervisors; every other role (bidders above
  all) is answered 404, so an open alert never leaks;
- Resource(kind="collusion_graph", region_id): the region's evidence graph;
- Resource(kind="collusion_finding", state=<tender state>, centre/region of the tender,
  user_id=<the asker's account if it holds an active seat on the tender's committee>):
  confirmed findings only (never open alerts), for the committee's qualification review;
- Resource(kind="company", ...): a bidder's collusion record (its confirmed findings).
"""

from __future__ import annotations

from collusion import alert_states as st
from tenderhall.auth.policy import AFTER_OPENING, COMMITTEE_STATES, Rule, Scope
from tenderhall.auth.roles import Role as R


def rules() -> list[Rule]:
    return [
        Rule(R.STAFF, "collusion.alert.view", Scope.OWN_CENTRE),
        Rule(R.SUPERVISOR, "collusion.alert.view", Scope.REGION),
        Rule(R.STAFF, "collusion.alert.assign", Scope.OWN_CENTRE, st.OPEN),
        Rule(R.STAFF, "collusion.alert.review", Scope.OWN_CENTRE, st.NEW),
        Rule(R.STAFF, "collusion.alert.comment", Scope.OWN_CENTRE, st.UNDECIDED),
        Rule(R.SUPERVISOR, "collusion.alert.comment", Scope.REGION, st.UNDECIDED),
        Rule(R.STAFF, "collusion.alert.confirm", Scope.OWN_CENTRE, st.IN_REVIEW),
        Rule(R.STAFF, "collusion.alert.dismiss", Scope.OWN_CENTRE, st.IN_REVIEW),
        Rule(R.STAFF, "collusion.alert.escalate", Scope.OWN_CENTRE, st.OPEN),
        # An escalated alert is the supervisor's to decide.
        Rule(R.SUPERVISOR, "collusion.alert.confirm", Scope.REGION, st.ESCALATED),
        Rule(R.SUPERVISOR, "collusion.alert.dismiss", Scope.REGION, st.ESCALATED),
        Rule(R.STAFF, "collusion.run", Scope.OWN_CENTRE, AFTER_OPENING),
        Rule(R.STAFF, "collusion.graph.view", Scope.REGION),
        Rule(R.SUPERVISOR, "collusion.graph.view", Scope.REGION),
        Rule(R.STAFF, "collusion.finding.view", Scope.OWN_CENTRE),
        Rule(R.SUPERVISOR, "collusion.finding.view", Scope.REGION),
        Rule(R.EXPERT, "collusion.finding.view", Scope.SELF, COMMITTEE_STATES),
        Rule(R.STAFF, "collusion.record.view", Scope.REGION),
        Rule(R.SUPERVISOR, "collusion.record.view", Scope.REGION),
    ]
