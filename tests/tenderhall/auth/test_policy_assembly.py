"""The one policy table is assembled from the kernel's rows and each domain package's own."""

from __future__ import annotations

import importlib

from tenderhall.auth.policy import kernel_rules, policy
from tenderhall.compose import DOMAINS, domain_plugins


def test_the_table_is_the_kernels_rows_then_each_domains() -> None:
    expected = [*kernel_rules()]
    for name in DOMAINS:
        expected += importlib.import_module(f"{name}.policy").rules()
    assert list(policy().rules) == expected
    assert policy().actions == {rule.action for rule in expected}


def test_every_domain_contributes_rows_the_kernel_does_not_hold() -> None:
    kernel_actions = {rule.action for rule in kernel_rules()}
    for plugin in domain_plugins():
        own = {rule.action for rule in plugin.policy_rules()}
        assert own, plugin.__name__
        # A domain's actions are its own: the kernel's table knows none of them.
        assert not own & kernel_actions, plugin.__name__


def test_no_row_is_written_twice() -> None:
    rows = policy().rules
    assert len(set(rows)) == len(rows)
