"""What an operator with database access could do to the ledger, for the tests that must catch it."""

from __future__ import annotations

import json
from collections.abc import Callable

import rfc8785
from sqlalchemy import text

from tenderhall.ledger import merkle
from tenderhall.services import Services


async def rewrite(services: Services, edited: Callable[[int], bool], drop_from: int | None = None) -> None:
    """Edit the entries ``edited`` picks and recompute every hash, node and the head, so the log is
    consistent in itself; with ``drop_from``, also delete the checkpoints and cosignatures of sizes
    above it (those that would still vouch for the old entries)."""
    tables = ["ledger_entries", "ledger_nodes"] + (["ledger_checkpoints"] if drop_from is not None else [])
    async with services.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            for table in tables:
                for verb in ("update", "delete"):
                    await conn.execute(text(f"DROP TRIGGER {table}_no_{verb}"))
        else:
            for table in tables:
                await conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        rows = (await conn.execute(text("SELECT id, body FROM ledger_entries ORDER BY id"))).all()
        await conn.execute(text("DELETE FROM ledger_nodes"))
        frontier = merkle.Frontier()
        for index, raw in rows:
            body = bytes(raw)
            if edited(index):
                value = json.loads(body)
                value["data"]["i"] = -1
                body = rfc8785.dumps(value)
            leaf = merkle.leaf_hash(body)
            await conn.execute(
                text("UPDATE ledger_entries SET body = :b, leaf_hash = :h WHERE id = :i"),
                {"b": body, "h": leaf, "i": index},
            )
            for ref, h in frontier.append(leaf):
                await conn.execute(
                    text("INSERT INTO ledger_nodes (id, hash) VALUES (:k, :h)"),
                    {"k": (ref.level << 57) | ref.index, "h": h},
                )
        await conn.execute(text("UPDATE ledger_head SET frontier = :f"), {"f": frontier.to_bytes()})
        if drop_from is not None:
            await conn.execute(text("DELETE FROM ledger_checkpoints WHERE size > :s"), {"s": drop_from})
            await conn.execute(text("DELETE FROM ledger_cosignatures WHERE size > :s"), {"s": drop_from})
