"""Fewer runs of Python's cyclic garbage collector while a stage streams millions of records.

The offline stages allocate a few dozen short-lived containers per message
(the decoded JSON, the model, the body tree) and keep a small record of each
planned message. With the default first-generation threshold (700) the
collector runs every few messages, and its older generations walk the
ever-growing set of kept records again and again: about a twentieth of
transform's CPU. None of these objects form cycles that must be freed early,
so the collector runs rarely while a stage is in progress; the objects that
already existed (imported modules) are frozen out of its scans.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

STREAMING_THRESHOLD = (50_000, 20, 100)


@contextmanager
def streaming() -> Iterator[None]:
    """Raise the collector's thresholds for the duration; restore them (and unfreeze) afterwards."""
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*STREAMING_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
