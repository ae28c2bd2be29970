"""Weekly channel digests: `/collab digest …`, `collab digest run-due` and `collab worker`.

One module per job, all plain functions over a `Store` (bot/state/store.py), the analytics
`Database` and a slack_sdk `WebClient`:

- grammar.py: the words of `/collab digest …` (subcommands; subscribe's channel, day, time, zone,
  countries, field), a pure function of the text;
- schedule.py: weekly run times in the subscription's own time zone (APScheduler's CronTrigger,
  so daylight-saving changes keep the local time) and the period key of each run;
- content.py: one digest message (what changed since the channel's last digest, a spotlight on
  the watched countries or a rotating one, the caveat line) and its chart, from Query objects;
- commands.py: the replies to subscribe / list / unsubscribe / preview / help, and the Slack
  look-ups they need;
- deliver.py: exactly-once delivery (claim → post → mark sent, leases, recovery from history);
- worker.py: `collab digest run-due` and the `collab worker` scheduler.
"""

from __future__ import annotations

from bot.digest.commands import handle_digest_command, home_lines
from bot.digest.content import NOTABLE, Digest, build_digest, country_names, spotlight_country
from bot.digest.deliver import EVENT_TYPE, DeliveryRules, Outcome, Pacer, RunReport, run_due, web_client
from bot.digest.grammar import is_digest_command, parse_subscribe, split_command
from bot.digest.schedule import fire_times, next_run, period_key
from bot.digest.worker import run_due_command, run_worker

__all__ = [
    "EVENT_TYPE",
    "NOTABLE",
    "DeliveryRules",
    "Digest",
    "Outcome",
    "Pacer",
    "RunReport",
    "build_digest",
    "country_names",
    "fire_times",
    "handle_digest_command",
    "home_lines",
    "is_digest_command",
    "next_run",
    "parse_subscribe",
    "period_key",
    "run_due",
    "run_due_command",
    "run_worker",
    "spotlight_country",
    "split_command",
    "web_client",
]
