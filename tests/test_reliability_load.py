"""50 slash commands in flight at once against the real server: each answered in its ack, fast, and exactly once.

The answer is in the acknowledgement and the chart follows (drawn in other processes), so the acks
must stay fast while 40-odd charts are drawn: ack p95 under 300 ms and every ack under 1 s, each
command answered once and its chart shown once, the answer with its chart within 3 s (p95).
`python bench/bench_load.py` prints the same figures over several rounds.

The exactly-once checks and Slack's 3-second limit always hold. The latency budgets are for a
2-core machine that runs nothing else: on a machine whose load average exceeds its cores before
the burst (a shared CI runner), they are reported, not asserted; COLLAB_LOAD_BUDGETS=always
asserts them anyway.
"""

from __future__ import annotations

import os

from conftest_slack import LOAD_COMMANDS, SlackServer, burst
from slack_standin import SlackStandIn

IN_FLIGHT = 50
ACK_P95, ACK_MAX, CHART_P95 = 0.300, 1.0, 3.0


def test_fifty_commands_at_once_are_each_acked_fast_and_answered_once(
    server: SlackServer, standin: SlackStandIn
) -> None:
    busy = os.getloadavg()[0] > (os.cpu_count() or 1)  # others' work, before this test adds its own
    texts = [LOAD_COMMANDS[i % len(LOAD_COMMANDS)] for i in range(IN_FLIGHT)]
    burst(server, standin, texts[:10])  # warm-up: the first charts start the drawing processes
    result = burst(server, standin, texts)
    assert all(a.status == 200 for a in result.acks)
    assert not result.not_once(), result.not_once()  # (text, answers, charts) not exactly (1, 1)
    assert sum(s is not None for s in result.answer_seconds) >= IN_FLIGHT - 3
    figures = result.summary()
    print(
        f"\n{IN_FLIGHT} in flight: ack p50 {figures['ack_p50']:.3f} s p95 {figures['ack_p95']:.3f} s "
        f"max {figures['ack_p100']:.3f} s; answer with chart p50 {figures['chart_p50']:.2f} s "
        f"p95 {figures['chart_p95']:.2f} s; peak RSS {figures['peak_rss_mb']:.0f} MiB"
    )
    assert figures["ack_p100"] < 3.0, figures  # Slack retries after 3 s
    if busy and os.environ.get("COLLAB_LOAD_BUDGETS") != "always":
        print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: budgets reported, not asserted)")
        return
    assert figures["ack_p95"] < ACK_P95 and figures["ack_p100"] < ACK_MAX, figures
    assert figures["chart_p95"] < CHART_P95, figures
