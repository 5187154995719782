"""Tenders: procedure rules, the lifecycle state machine and the services around them."""
