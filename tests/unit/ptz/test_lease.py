from __future__ import annotations

import pytest

from safecity.ptz.lease import LeaseBook, LeaseHeldError


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_one_holder_at_a_time_renewals_and_expiry() -> None:
    clock = Clock()
    book = LeaseBook(clock)
    first = book.acquire("p1", "kim", 60)
    assert (first.holder, first.since_s, first.expires_s) == ("kim", 1000.0, 1060.0)
    clock.t = 1030.0
    with pytest.raises(LeaseHeldError, match=r"p1 is being steered by kim \(lease ends in 30 s\)") as err:
        book.acquire("p1", "lee", 60)
    assert err.value.lease == first
    renewed = book.acquire("p1", "kim", 60)
    assert (renewed.since_s, renewed.expires_s) == (1000.0, 1090.0)
    assert book.acquire("p2", "lee", 60).holder == "lee"  # other cameras are independent
    clock.t = 1090.0
    assert book.holder("p1") is None
    assert book.released_since("p1") == 1090.0
    assert book.acquire("p1", "lee", 60).holder == "lee"
    assert book.released_since("p1") is None


def test_release_own_lease_and_break_anothers_only_with_force() -> None:
    clock = Clock()
    book = LeaseBook(clock)
    assert book.release("p1", "kim") is None
    book.acquire("p1", "kim", 60)
    with pytest.raises(LeaseHeldError):
        book.release("p1", "lee")
    clock.t = 1010.0
    broken = book.release("p1", "admin", force=True)
    assert broken is not None and broken.holder == "kim"
    assert book.holder("p1") is None and book.released_since("p1") == 1010.0
    book.acquire("p1", "lee", 60)
    assert book.release("p1", "lee") is not None
