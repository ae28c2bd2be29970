"""`collab digest run-due` that dies or hangs at one step of the delivery, for the exactly-once tests.

    python tests/run_due_and_stop.py exit-after-claim|exit-after-post|sleep-after-claim|sleep-after-post NOW

It runs the real command with the environment's settings; the only difference is the `after_step`
callback, which stops the process the way a crash (os._exit, no cleanup) or a hang would.
"""

from __future__ import annotations

import os
import sys
import time

from bot.config import Settings
from bot.digest import run_due_command


def main(stop: str, now: str) -> int:
    action, _, point = stop.partition("-after-")

    def after_step(reached: str) -> None:
        if reached != point:
            return
        if action == "exit":
            os._exit(70)
        print(f"hook: sleeping after {point}", flush=True)
        time.sleep(3600)

    return run_due_command(now, Settings.from_env(), after_step=after_step)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
