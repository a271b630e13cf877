"""A command's log file: everything the migrator logs (retries, failures) goes there, not to the terminal.

The terminal shows progress and the summary; a consultant reads the file
when a number in the summary needs explaining. The Graph client redacts
tokens before logging, so the file never holds a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def log_to(path: Path) -> Iterator[Path]:
    """Send the `migrator` loggers to `path` (appended) for the duration of the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(threadName)s: %(message)s"))
    root = logging.getLogger("migrator")
    previous = root.level
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()
