"""When digests run: weekly schedules in the subscription's own time zone, and the period keys of runs.

APScheduler's CronTrigger computes the times, so "Monday 09:00 Europe/London" is 09:00 London time
in winter and in summer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.state.store import Subscription

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_WEEKDAY, DEFAULT_TIME = 0, "09:00"


def _trigger(sub: Subscription) -> Any:
    from apscheduler.triggers.cron import CronTrigger

    hour, minute = (int(part) for part in sub.time.split(":"))
    return CronTrigger(day_of_week=WEEKDAYS[sub.weekday][:3], hour=hour, minute=minute, timezone=ZoneInfo(sub.tz))


def next_run(sub: Subscription, after: datetime) -> datetime:
    """The first scheduled time at or after `after` (aware, in the subscription's zone)."""
    return _trigger(sub).get_next_fire_time(None, after)


def fire_times(sub: Subscription, start: datetime, end: datetime) -> list[datetime]:
    """Scheduled times t with start <= t <= end, oldest first."""
    trigger, times = _trigger(sub), []
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment <= end:
        times.append(moment)
        moment = trigger.get_next_fire_time(moment, moment)
    return times


def period_key(sub: Subscription, moment: datetime) -> str:
    """The scheduled local date-time of a run, e.g. "2026-11-30T09:00": one delivery per key."""
    return moment.astimezone(ZoneInfo(sub.tz)).strftime("%Y-%m-%dT%H:%M")


def period_moment(sub: Subscription, key: str) -> datetime:
    return datetime.strptime(key, "%Y-%m-%dT%H:%M").replace(tzinfo=ZoneInfo(sub.tz))


def schedule_text(sub: Subscription) -> str:
    return f"every {WEEKDAYS[sub.weekday].capitalize()} at {sub.time} ({sub.tz})"
