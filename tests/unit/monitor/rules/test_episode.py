"""Episode: debounced start, throttled updates on change, delayed end; UidMaker: restart-safe uids."""

from __future__ import annotations

from safecity.monitor.rules.episode import Episode, UidMaker
from safecity.monitor.types import Event


def _episode() -> Episode:
    base = Event(uid="", type="intrusion", camera="c", start_s=0.0, last_s=0.0)
    return Episode(
        base, UidMaker("c", "intrusion", "z", run="r"), min_s=1.0, end_after_s=2.0, update_every_s=100.0
    )


def test_start_after_min_s_update_on_change_end_after_end_after_s() -> None:
    ep = _episode()
    out = []
    for k in range(12):
        t = 0.5 * k
        cond = t <= 3.0
        out += [
            (t, kind, ev) for kind, ev in ep.step(t, cond, {"count": 1 if t < 2 else 2} if cond else None)
        ]
    assert [(t, kind) for t, kind, _ in out] == [(1.0, "start"), (2.0, "update"), (5.5, "end")]
    start, end = out[0][2], out[-1][2]
    assert start.uid == end.uid == "c-intrusion-z-0-r-1" and start.start_s == 0.0 and end.end_s == 3.5


def test_a_short_condition_never_starts_and_finish_ends_a_live_event() -> None:
    ep = _episode()
    assert ep.step(0.0, True) == [] and ep.step(0.5, False) == [] and ep.finish(1.0) == []
    ep.step(1.0, True)
    assert [k for k, _ in ep.step(2.0, True)] == ["start"]
    ((kind, ev),) = ep.finish(2.5)
    assert kind == "end" and ev.end_s == 2.5 and ep.event is None
