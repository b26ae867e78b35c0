"""AheadBuffer: a record far ahead of the arrival clock waits until the lines after it agree."""

from __future__ import annotations

from dataclasses import dataclass

from airwarn.ingest import AHEAD_LEAD_S, AheadBuffer


@dataclass
class Rec:
    t: float
    sensor: str


def test_a_record_hours_ahead_that_the_next_line_contradicts_stays_held() -> None:
    buf = AheadBuffer()
    clock = 1000.0
    buf.hold(Rec(clock + 3 * 3600, "phone"), clock)  # a phone on local time, 3 h ahead
    assert buf.release(clock) == []
    buf.contradict()  # the next line is another sensor's, within reach of the clock
    for k in range(1, 30):
        assert buf.release(clock + 10 * k) == []
        buf.contradict()
    ok, bad = buf.rest()
    assert ok == [] and [r.sensor for r in bad] == ["phone"]
    assert buf.ahead_by == {"phone": 3 * 3600}


def test_a_quiet_gap_is_crossed_when_the_next_line_agrees() -> None:
    """A sparse feed falls silent for 10 minutes, then a post reports again: its first
    report waits for the next line only, then both are released in arrival order."""
    buf = AheadBuffer()
    clock = 1000.0
    a, b = Rec(clock + 600, "P1"), Rec(clock + 608, "P1")
    buf.hold(a, clock)
    assert buf.release(clock) == []
    buf.hold(b, clock)
    assert buf.release(clock) == [a, b]
    assert len(buf) == 0


def test_a_gap_releases_the_agreeing_lines_but_not_a_wrong_clock_among_them() -> None:
    buf = AheadBuffer()
    clock = 1000.0
    bad, a, b = Rec(clock + 7200, "phone"), Rec(clock + 600, "P1"), Rec(clock + 605, "P2")
    for r in (bad, a, b):
        buf.hold(r, clock)
    assert buf.release(clock) == [a, b]
    assert buf.rest() == ([], [bad])


def test_the_last_line_of_a_sparse_feed_after_a_gap_is_taken_at_the_end() -> None:
    """Nothing came after it to agree or to contradict: the input ended, take it."""
    buf = AheadBuffer()
    last = Rec(1000.0 + 900, "P7")
    buf.hold(last, 1000.0)
    assert buf.release(1000.0) == []
    assert buf.rest() == ([last], [])


def test_the_clock_catching_up_releases_a_record_slightly_ahead() -> None:
    buf = AheadBuffer()
    r = Rec(1000.0 + AHEAD_LEAD_S + 30, "R1")
    buf.hold(r, 1000.0)
    buf.contradict()
    assert buf.release(1000.0) == []
    assert buf.release(1030.0) == [r]
