"""What a digest says: what changed in the data since the channel's last digest, a spotlight on the
watched countries (or a rotating one), the caveat line, and its chart.

Every figure comes from the engine, asked with Query objects (never command text, so a watched
country whose ISO code is also an option word, such as AND or IN, is still a country).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.digest.schedule import schedule_text
from bot.engine.answer import run
from bot.engine.question import Query
from bot.errors import UserError
from bot.reference.wording import count, field_words, joined
from bot.render import blocks as kit
from bot.state.store import Delivery, Subscription

LATE_AFTER = timedelta(minutes=10)  # posted later than this after its time: says it is late
# The rotating spotlight when a subscription watches no country: the countries of the Rest of
# World analysis first, then other large collaborators.
NOTABLE = (
    "CHN",
    "IND",
    "JPN",
    "SGP",
    "KOR",
    "SAU",
    "PAK",
    "MYS",
    "BRA",
    "TWN",
    "USA",
    "GBR",
    "DEU",
    "IDN",
    "VNM",
    "EGY",
    "NGA",
    "ARE",
    "TUR",
    "AUS",
)


def slack_date(moment: datetime, tz: str) -> str:
    """`<!date^…>`: shown in each reader's own time zone; the fallback names the subscription's zone."""
    local = moment.astimezone(ZoneInfo(tz))
    fallback = f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M} ({tz})"
    return f"<!date^{int(moment.timestamp())}^{{date_long_pretty}} at {{time}}|{fallback}>"


def country_names(codes: Iterable[str]) -> list[str]:
    from bot.reference.countries import all_countries

    countries = all_countries()
    return [countries[c].name if c in countries else c for c in codes]


@dataclass
class Digest:
    text: str
    blocks: list[dict[str, Any]]
    chart: Any  # a Result with a chart, or None
    snapshot: dict[str, Any]
    data_version: str
    is_new: bool  # the data changed since the channel's last digest (or there was none)
    skip: bool  # nothing new, nothing watched, and the subscription is quiet


def spotlight_country(sub: Subscription, due: datetime) -> str:
    """The rotating spotlight: a notable country chosen by the week of the scheduled run."""
    year, week, _ = due.astimezone(ZoneInfo(sub.tz)).isocalendar()
    return NOTABLE[(year * 53 + week) % len(NOTABLE)]


def _signed(value: int) -> str:
    return f"+{value:,}" if value > 0 else f"−{abs(value):,}"


def _window_label(result: Any) -> str:
    return result.title.rsplit(", ", 1)[-1] if ", " in result.title else ""


def _caveat(result: Any) -> str:
    keep = [n for n in result.notes if n.startswith(("Source:", "Years:", "Pair-years"))]
    return " ".join(keep)


def _releases(about: Any) -> str:
    rows = about.frame.to_dict("records")
    return "; ".join(f"{r['title']} ({r['release']})" for r in rows)


def _country_block(code: str, field: str, db: Any) -> tuple[str, Any, dict[str, int]]:
    """The spotlight lines for one country, its partners Result, and its top partners (code -> count)."""
    name = country_names([code])[0]
    partners = run(Query(verb="partners", countries=(code,), field=field, limit=5), db)
    lines = [f"*{kit.escape(name)}*"]
    top: dict[str, int] = {}
    if partners.frame.empty:
        lines.append(f"No published {field_words(field)} partners in {_window_label(partners)}.")
    else:
        rows = partners.frame.head(3).to_dict("records")
        top = {str(r["partner_code"]): int(r["joint_articles"]) for r in partners.frame.to_dict("records")}
        lines.append(
            f"Top partners ({_window_label(partners)}, joint articles): "
            + " · ".join(f"{kit.escape(r['partner'])} {count(r['joint_articles'])}" for r in rows)
        )
    try:
        rising = run(Query(verb="rising", countries=(code,), field=field, limit=3), db)
        if not rising.frame.empty:
            r = rising.frame.iloc[0]
            lines.append(
                f"Fastest-rising partner: {kit.escape(r['partner'])}, {r['cagr']:+.0%} a year "
                f"({count(r['first_value'])} in {int(r['first_year'])} → {count(r['last_value'])} in "
                f"{int(r['last_year'])}, complete years)."
            )
    except UserError:
        pass
    try:
        profile = run(Query(verb="profile", countries=(code,), field=field), db)
        p = profile.frame.iloc[0]
        if p["articles"] == p["articles"] and p["articles"]:
            lines.append(
                f"International work: {float(p['links_per_article']):.2f} cross-border links per article "
                f"({count(p['cross_border_links'])} links, {count(p['articles'])} articles, "
                f"{count(p['partners'])} partner countries)."
            )
    except (UserError, KeyError, TypeError, ValueError):
        pass
    return "\n".join(lines), partners, top


def _movers(previous: dict[str, Any], current: dict[str, Any], field: str) -> list[str]:
    """What moved between two snapshots: cross-border links of the top countries, watched partners."""
    lines = []
    names = {**previous.get("names", {}), **current.get("names", {})}
    before, after = previous.get("top") or {}, current.get("top") or {}
    changes = sorted(
        ((after[c] - before[c], c) for c in after if c in before and after[c] != before[c]),
        key=lambda change: (-abs(change[0]), change[1]),
    )
    if changes:
        lines.append(
            f"Biggest movers in cross-border {field_words(field)} links: "
            + " · ".join(
                f"{kit.escape(names.get(c, c))} {_signed(d)} ({before[c]:,} → {after[c]:,})" for d, c in changes[:3]
            )
        )
    entered = [c for c in after if c not in before]
    if before and entered:
        lines.append("New in the top 10: " + ", ".join(kit.escape(names.get(c, c)) for c in entered) + ".")
    for code, partners in (current.get("partners") or {}).items():
        old = (previous.get("partners") or {}).get(code)
        if not old:
            continue
        moved = sorted(
            ((n - old[p], p) for p, n in partners.items() if p in old and n != old[p]),
            key=lambda change: (-abs(change[0]), change[1]),
        )
        if moved:
            d, p = moved[0]
            lines.append(
                f"{kit.escape(names.get(code, code))}: with {kit.escape(names.get(p, p))} {_signed(d)} joint articles "
                f"({old[p]:,} → {partners[p]:,})."
            )
    return lines


def build_digest(
    sub: Subscription, *, previous: Delivery | None, due: datetime, now: datetime, db: Any = None
) -> Digest:
    """The digest for the run scheduled at `due`, compared with the channel's last posted digest."""
    field = sub.field
    top = run(Query(verb="top", field=field, limit=10), db)
    about = run(Query(verb="about"), db)
    data_version = top.data_version
    names = {str(r["country_code"]): str(r["country"]) for r in top.frame.to_dict("records")}
    snapshot: dict[str, Any] = {
        "version": 1,
        "data_version": data_version,
        "field": field,
        "top": {str(r["country_code"]): int(r["cross_border_links"]) for r in top.frame.to_dict("records")},
        "names": names,
        "partners": {},
    }
    is_new = previous is None or previous.data_version != data_version
    late = now - due > LATE_AFTER
    field_label = field_words(field)

    # What changed
    if previous is None:
        whats_new = (
            f"*What's new:* this is the first collab digest here. Data loaded: {kit.escape(_releases(about))} "
            f"(data version `{kit.escape(data_version)}`)."
        )
    elif is_new:
        whats_new = (
            f"*New data since the last digest:* {kit.escape(_releases(about))} (data version "
            f"`{kit.escape(data_version)}`, was `{kit.escape(previous.data_version or 'unknown')}`)."
        )
    else:
        since = slack_date(previous.sent_at, sub.tz) if previous.sent_at else "the last digest"
        whats_new = (
            f"Nothing new in collab's {field_label} data since the last digest ({since}; data version "
            f"`{kit.escape(data_version)}`)."
        )
    late_line = f":hourglass: This digest is late: it was due {slack_date(due, sub.tz)}." if late else ""

    watched = list(sub.countries)
    if not watched and not is_new:  # nothing new, nothing watched: one line, or nothing
        snapshot = previous.snapshot or snapshot if previous else snapshot
        text = f"collab digest: nothing new in the {field_label} data since the last digest."
        blocks = [kit.section(whats_new + (f"\n{late_line}" if late_line else "")), kit.context(_caveat(top))]
        return Digest(text, blocks, None, snapshot, data_version, is_new=False, skip=sub.quiet)

    spotlight = watched or [spotlight_country(sub, due)]
    sections, chart, caveat_from = [], None, top
    for code in spotlight:
        try:
            body, partners, partner_counts = _country_block(code, field, db)
        except UserError as error:
            sections.append(f"*{kit.escape(country_names([code])[0])}*: {kit.escape(error.message)}")
            continue
        sections.append(body)
        snapshot["partners"][code] = partner_counts
        names.update({str(r["partner_code"]): str(r["partner"]) for r in partners.frame.to_dict("records")})
        names.setdefault(code, country_names([code])[0])
        if chart is None and partners.chart is not None and not partners.frame.empty:
            chart, caveat_from = partners, partners
    if len(watched) >= 2:
        try:
            compare = run(Query(verb="compare", countries=tuple(watched), field=field), db)
            if compare.chart is not None and not compare.frame.empty:
                chart = compare
        except UserError:
            pass

    what = [whats_new]
    if is_new and previous is not None:
        if previous.snapshot and previous.snapshot.get("field") == field:
            movers = _movers(previous.snapshot, snapshot, field)
            what += movers or ["The figures this digest follows did not change."]
        else:
            what.append("The last digest recorded no figures to compare with.")
    spotlight_names = joined(country_names(spotlight))
    title = (
        f"collab digest: {spotlight_names} · {field_label}"
        if watched
        else f"collab digest · spotlight on {spotlight_names} · {field_label}"
    )
    blocks = [kit.header(title)]
    if late_line:
        blocks.append(kit.context(late_line))
    blocks.append(kit.section("\n".join(what)))
    if not watched:
        sections[0] = "*Spotlight of the week* · " + sections[0]
    blocks += [kit.section(s) for s in sections]
    blocks.append(
        kit.context(
            _caveat(caveat_from),
            f"Digest #{sub.id} · {schedule_text(sub)} · `/collab digest unsubscribe {sub.id}`" if sub.id else "",
        )
    )
    summary_bits = [title + "."]
    if late:
        summary_bits.append("This digest is late.")
    summary_bits.append(re.sub(r"[*`]", "", whats_new))
    text = kit.cut(" ".join(summary_bits), 3000)
    return Digest(text, blocks[:50], chart, snapshot, data_version, is_new=is_new, skip=False)
