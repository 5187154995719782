"""Helpers for region-scale passes that create millions of Python objects."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk pass.

    The collector runs every few hundred new container objects and, as the results pile up, its full
    passes walk all of them again: for a region's 300,000 results that was half of the batch time.
    The passes make few reference cycles; whatever they make is collected when the pause ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
