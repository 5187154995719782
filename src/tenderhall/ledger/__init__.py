"""Tamper-evident ledger: RFC 9162 Merkle hashing and proofs, C2SP signed notes and checkpoints."""
