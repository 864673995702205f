"""The durable spool: order, acknowledgement across restarts, segment clean-up, torn lines."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safecity.store.spool import Spool, SpoolBusyError, open_spool, orphan_folders


def test_pending_survives_reopen_and_ack(tmp_path: Path) -> None:
    s = Spool(tmp_path)
    seqs = [s.append({"n": i}) for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    s.ack(2)
    s.close()  # the process ends
    again = Spool(tmp_path)  # a new process finds what is left
    assert [rec["n"] for _, rec in again.pending()] == [2, 3, 4]
    assert len(again) == 3
    assert again.append({"n": 5}) == 6  # numbering continues


@pytest.mark.parametrize(
    ("n", "per_segment", "ack", "files_left"),
    [
        (10, 3, 0, 4),  # nothing consumed: 4 segments
        (10, 3, 6, 2),  # first two segments consumed and deleted
        (10, 3, 10, 0),  # everything consumed: no file left
        (2, 3, 1, 1),  # partly consumed segment stays
    ],
)
def test_consumed_segments_are_deleted(
    tmp_path: Path, n: int, per_segment: int, ack: int, files_left: int
) -> None:
    s = Spool(tmp_path, segment_records=per_segment, fsync=False)
    for i in range(n):
        s.append({"n": i})
    s.ack(ack)
    s.close()
    assert len(list(tmp_path.glob("spool-*.jsonl"))) == files_left
    assert [seq for seq, _ in Spool(tmp_path).pending()] == list(range(ack + 1, n + 1))


def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    s = Spool(tmp_path)
    s.append({"n": 0})
    (seg,) = tmp_path.glob("spool-*.jsonl")
    with seg.open("a") as fh:
        fh.write('{"seq": 2, "rec": {"n"')  # the process died mid-write
    s.close()
    assert [rec for _, rec in Spool(tmp_path).pending()] == [{"n": 0}]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(0, 1000), max_size=30),
    st.integers(1, 5),
    st.lists(st.integers(0, 40), max_size=5),
)
def test_pending_is_exactly_the_unacked_suffix(values: list[int], per_segment: int, acks: list[int]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        s = Spool(Path(d), segment_records=per_segment, fsync=False)
        for v in values:
            s.append({"v": v})
        acked = 0
        for a in acks:
            s.ack(a)
            acked = max(acked, min(a, len(values)))
        s.close()
        assert [rec["v"] for _, rec in Spool(Path(d)).pending()] == values[acked:]


def test_doctests() -> None:
    import doctest

    import safecity.store.spool

    assert doctest.testmod(safecity.store.spool).failed == 0


def test_one_owner_per_folder(tmp_path: Path) -> None:
    first = Spool(tmp_path)
    with pytest.raises(SpoolBusyError, match=f"pid {os.getpid()}"):
        Spool(tmp_path)
    Spool(tmp_path, lock=False).pending()  # inspection is fine
    first.close()
    Spool(tmp_path).close()  # free again


def test_open_spool_falls_back_to_a_private_folder(tmp_path: Path) -> None:
    owner = Spool(tmp_path)
    mine = open_spool(tmp_path)
    assert mine.folder == tmp_path / f"pid-{os.getpid()}"
    assert orphan_folders(tmp_path, mine) == [tmp_path]  # the shared folder is someone else's
    assert orphan_folders(tmp_path, owner) == [mine.folder]
    mine.close()
    owner.close()
