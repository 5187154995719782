"""The tender archive (一标一档) and open data (OCDS): the fifth package, on top of the others.

It reads every stage of a tender (kernel, bidding, evaluation, collusion), so it may import all of
them and none may import it (docs/architecture.md, "Packages and import directions").
"""
