"""Accounts, sessions, API tokens and the one policy table of who may do what."""
