"""Times people type for events: ISO 8601, wall-clock time in Europe/Amsterdam unless an offset is given."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from event_samples import DASH, utc
from fediverse_a2.errors import UserError
from fediverse_a2.i18n import format_span, local_input
from fediverse_a2.services.events import parse_when

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2031-01-15T10:00", utc(2031, 1, 15, 9)),  # winter: UTC+1
        ("2031-06-14 10:00", utc(2031, 6, 14, 8)),  # summer: UTC+2
        ("2031-06-14T10:00:30", utc(2031, 6, 14, 8, 0, 30)),
        ("2031-06-14", utc(2031, 6, 13, 22)),  # a date alone: its midnight
        ("2031-03-30T01:59", utc(2031, 3, 30, 0, 59)),  # the last minute before the clocks go forward
        ("2031-03-30T03:00", utc(2031, 3, 30, 1)),  # the first after
        ("2031-10-26T02:30", utc(2031, 10, 26, 0, 30)),  # happens twice: the first (summer time) counts
        ("2031-10-26T03:00", utc(2031, 10, 26, 2)),
        ("2031-06-14T10:00Z", utc(2031, 6, 14, 10)),  # an offset is kept as given
        ("2031-06-14T10:00-05:00", utc(2031, 6, 14, 15)),
    ],
)
def test_typed_times(typed: str, expected: float) -> None:
    assert parse_when(typed, AMS) == expected


@pytest.mark.parametrize("typed", ["2031-03-30T02:00", "2031-03-30T02:30", "2031-03-30T02:59"])
def test_the_skipped_hour_does_not_exist(typed: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_when(typed, AMS, "--start")
    assert caught.value.key == "event_time_skipped" and "Europe/Amsterdam" in str(caught.value)


@pytest.mark.parametrize("typed", ["", "morgen", "2031-13-01T10:00", "2031-06-14T25:00", "14-06-2031 10:00", "x" * 500])
def test_nonsense_is_refused(typed: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_when(typed, AMS)
    assert caught.value.key == "event_time_invalid" and len(str(caught.value)) < 200


def test_spans_and_form_values_in_amsterdam_time() -> None:
    assert (
        format_span(utc(2031, 6, 14, 8), utc(2031, 6, 14, 15), "nl", AMS) == f"zaterdag 14 juni 2031, 10.00{DASH}17.00"
    )
    assert format_span(utc(2031, 6, 14, 8), None, "en", AMS) == "Saturday 14 June 2031, 10:00"
    across = format_span(utc(2031, 10, 25, 20), utc(2031, 10, 26, 3), "nl", AMS)
    assert across == f"zaterdag 25 oktober 2031, 22.00 {DASH} zondag 26 oktober 2031, 04.00"
    assert local_input(utc(2031, 10, 26, 0, 30), AMS) == "2031-10-26T02:30"
    assert local_input(utc(2031, 10, 26, 1, 30), AMS) == "2031-10-26T02:30"  # the second 02:30
