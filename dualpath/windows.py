"""Maintenance windows: "Sat 02:00-05:00 Europe/Berlin", timezone-aware via zoneinfo.

Forms: ``<days> <HH:MM>-<HH:MM> [<IANA zone>]`` where days are ``Sat``, ``Sat,Sun``,
``Mon-Fri``, ``daily`` (or ``*``). The zone defaults to UTC. An end at or before the start
crosses midnight: ``Fri 22:00-02:00`` closes on Saturday at 02:00. Times are wall-clock
times in the zone, so a window stays at 02:00 local across daylight-saving changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dualpath.errors import InputError, TargetRefused

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_FORM = re.compile(r"^\s*(?P<days>\S+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})(?:\s+(?P<tz>\S+))?\s*$")
_HINT = 'write e.g. "Sat 02:00-05:00 Europe/Berlin", "Mon-Fri 22:00-02:00 UTC" or "daily 01:00-03:00"'


@dataclass(frozen=True)
class Window:
    text: str
    days: frozenset[int]  # 0 = Monday, the day each opening starts on
    start: time
    end: time
    zone: ZoneInfo

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def openings(self, around: datetime, days_before: int = 1, days_after: int = 8) -> list[tuple[datetime, datetime]]:
        """Every (open, close) pair starting from ``days_before`` to ``days_after`` days around ``around``."""
        local_day = _aware(around).astimezone(self.zone).date()
        found = []
        for offset in range(-days_before, days_after + 1):
            day = local_day + timedelta(days=offset)
            if day.weekday() in self.days:
                found.append(self._opening_on(day))
        return found

    def _opening_on(self, day: date) -> tuple[datetime, datetime]:
        opens = datetime.combine(day, self.start, tzinfo=self.zone)
        closing_day = day + timedelta(days=1) if self.crosses_midnight else day
        return opens, datetime.combine(closing_day, self.end, tzinfo=self.zone)

    def is_open(self, now: datetime) -> bool:
        moment = _aware(now)
        return any(opens <= moment < closes for opens, closes in self.openings(moment))

    def closes_at(self, now: datetime) -> datetime | None:
        """When the window that is open at ``now`` closes; None when it is closed."""
        moment = _aware(now)
        return next((closes for opens, closes in self.openings(moment) if opens <= moment < closes), None)

    def next_opening(self, now: datetime) -> datetime:
        """The first opening strictly after ``now`` (in the window's zone)."""
        moment = _aware(now)
        return min(opens for opens, _ in self.openings(moment, days_before=0) if opens > moment)


def parse_window(text: str) -> Window:
    """Parse a window string, or raise InputError saying what is wrong with it."""
    match = _FORM.match(text or "")
    if not match:
        raise InputError(f"maintenance window '{text}' is not in the form '<days> <HH:MM>-<HH:MM> [zone]'",
                         hint=_HINT)
    zone_name = match["tz"] or "UTC"
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"maintenance window '{text}': unknown time zone '{zone_name}'",
                         hint="use an IANA zone name such as Europe/Berlin, America/New_York or UTC") from None
    return Window(text=text.strip(), days=_parse_days(match["days"], text),
                  start=_parse_time(match["start"], text), end=_parse_time(match["end"], text), zone=zone)


def check_window(text: str | None, now: datetime | None = None, hint: str | None = None) -> None:
    """Refuse (exit 3) outside the window, saying when it next opens; no window means any time. ``hint``:
    how to wait for it from where the run was started (a deployment parameter, a command line flag)."""
    if not text:
        return
    window = parse_window(text)
    moment = now or datetime.now(UTC)
    if not window.is_open(moment):
        opens = window.next_opening(moment)
        raise TargetRefused(f"outside the maintenance window '{window.text}'; it next opens "
                            f"{opens.isoformat()} ({describe_wait(opens - _aware(moment))} from now)",
                            hint=hint or "wait for the window (dualpath run --wait-for-window), or change the "
                                         "environment's window in dualpath.toml")


@dataclass(frozen=True)
class Admission:
    """What a run may do at one moment: start now ("open"), wait ``wait_s`` for an opening that is at
    most the grace away ("wait": a worker started a scheduled run a moment early), or not run ("closed")."""

    verdict: str  # "open" | "wait" | "closed"
    wait_s: float = 0.0
    closes: datetime | None = None  # when the open window closes
    opens: datetime | None = None  # the next opening, when not open


def admit(text: str | None, now: datetime, grace_s: float = 0.0) -> Admission:
    """Decide from the window and the time alone (no clock read here: the caller passes ``now``)."""
    if not text:
        return Admission("open")
    window = parse_window(text)
    moment = _aware(now)
    closes = window.closes_at(moment)
    if closes is not None:
        return Admission("open", closes=closes)
    opens = window.next_opening(moment)
    wait_s = (opens - moment).total_seconds()
    return Admission("wait" if wait_s <= grace_s else "closed", wait_s=wait_s, opens=opens)


def describe_wait(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"]
    return " ".join(parts)


def _parse_days(spec: str, text: str) -> frozenset[int]:
    spec = spec.lower()
    if spec in ("daily", "*"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.partition("-")
        a, b = _day(first, text), _day(last or first, text)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])  # Sat-Mon wraps
    return frozenset(days)


def _day(name: str, text: str) -> int:
    key = name.strip()
    for index, full in enumerate(_FULL_DAYS):
        if key in (full, DAYS[index]):
            return index
    raise InputError(f"maintenance window '{text}': '{name}' is not a day",
                     hint="days are Mon Tue Wed Thu Fri Sat Sun, a range Mon-Fri, a list Sat,Sun, or daily")


def _parse_time(value: str, text: str) -> time:
    hours, minutes = (int(p) for p in value.split(":"))
    if hours == 24 and minutes == 0:
        return time(0, 0)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise InputError(f"maintenance window '{text}': '{value}' is not a time of day", hint="use 00:00 to 23:59")
    return time(hours, minutes)


def _aware(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC: a window must never depend on the machine's zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
