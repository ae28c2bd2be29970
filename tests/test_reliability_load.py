"""50 slash commands in flight at once against the real server: every one acked within Slack's 3 s, answered once.

The figures (percentiles, peak memory) are printed by `python bench/bench_load.py`; here only the
correctness is asserted, so the test holds on a slow CI machine too.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest_slack import (  # noqa: E402,F401  (fixtures)
    LOAD_COMMANDS,
    SlackServer,
    burst,
    collab_db,
    server,
    standin,
)
from slack_standin import SlackStandIn  # noqa: E402

IN_FLIGHT = 50


def test_fifty_commands_at_once_are_each_acked_within_3s_and_answered_once(
    server: SlackServer, standin: SlackStandIn
) -> None:
    texts = [LOAD_COMMANDS[i % len(LOAD_COMMANDS)] for i in range(IN_FLIGHT)]
    result = burst(server, standin, texts)
    slow = [(t, round(s, 2)) for t, s in zip(texts, result.ack_seconds) if s >= 3]
    assert not slow, slow
    assert all(a.status == 200 for a in result.acks)
    for text, ack, answered, responses in zip(texts, result.acks, result.answer_seconds, result.responses):
        if b"Working on" in ack.body:
            assert answered is not None and responses == 1, (text, responses)
        else:  # refused in the ack itself (the typo): a friendly reply, nothing more
            assert b":thinking_face:" in ack.body and responses == 0, (text, ack.body)
    assert sum(s is not None for s in result.answer_seconds) >= IN_FLIGHT - 3
    figures = result.summary()
    print(
        f"\n{IN_FLIGHT} in flight: ack p50 {figures['ack_p50']:.3f} s p99 {figures['ack_p99']:.3f} s; "
        f"answer p50 {figures['answer_p50']:.2f} s p99 {figures['answer_p99']:.2f} s; "
        f"peak RSS {figures['peak_rss_mb']:.0f} MiB"
    )
