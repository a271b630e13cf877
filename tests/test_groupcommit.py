"""Group commit (migrator/groupcommit.py): each caller returns once its own row is committed, rows that wait
together share one commit, and a failed commit reaches every caller of its batch and no other."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from migrator.groupcommit import GroupCommit


class Store:
    """A commit that takes a while (as a round trip to PostgreSQL does), so that writers queue behind it."""

    def __init__(self, refuse: set[int] | None = None) -> None:
        self.committed: set[int] = set()
        self.batches: list[list[int]] = []
        self.refuse = refuse or set()
        self.running = 0
        self.overlapped = False
        self.lock = threading.Lock()

    def commit(self, rows: Sequence[int]) -> None:
        with self.lock:
            self.running += 1
            self.overlapped |= self.running > 1
        time.sleep(0.005)
        with self.lock:
            self.running -= 1
            self.batches.append(list(rows))
            if self.refuse & set(rows):
                raise RuntimeError(f"refused {sorted(self.refuse & set(rows))}")
            self.committed.update(rows)


def _write_all(group: GroupCommit[int], store: Store, rows: range) -> dict[int, BaseException | None]:
    """Each row from its own thread; what each caller saw, checked the moment its write returned."""
    seen: dict[int, BaseException | None] = {}

    def write(row: int) -> None:
        try:
            group.write(row)
        except RuntimeError as error:
            seen[row] = error
            return
        assert row in store.committed, f"write({row}) returned before its row was committed"
        seen[row] = None

    threads = [threading.Thread(target=write, args=(row,)) for row in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seen


def test_every_row_is_committed_once_before_its_writer_returns_and_waiting_rows_share_a_commit() -> None:
    store = Store()
    seen = _write_all(GroupCommit(store.commit), store, range(64))
    assert seen == {row: None for row in range(64)}
    flat = [row for batch in store.batches for row in batch]
    assert sorted(flat) == list(range(64))  # once each
    assert len(store.batches) < 64, "no two rows ever shared a commit"
    assert not store.overlapped, "two commits ran at once"


def test_a_failed_commit_reaches_every_caller_of_its_batch_and_the_next_leader_goes_on() -> None:
    store = Store(refuse={7})
    seen = _write_all(GroupCommit(store.commit), store, range(40))
    failed_batch = next(batch for batch in store.batches if 7 in batch)
    assert {row for row, error in seen.items() if error is not None} == set(failed_batch)
    assert all("refused [7]" in str(seen[row]) for row in failed_batch)
    assert store.committed == set(range(40)) - set(failed_batch)


def test_a_single_writer_commits_alone() -> None:
    store = Store()
    group = GroupCommit(store.commit)
    group.write(1)
    group.write(2)
    assert store.batches == [[1], [2]]
    with pytest.raises(RuntimeError, match="refused"):
        GroupCommit(Store(refuse={3}).commit).write(3)
