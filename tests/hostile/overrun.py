"""How far past its deadline a call ends against servers that drip, flood 1xx or stall (not a test).

    python tests/hostile/overrun.py [runs]

Prints the worst overrun of `trigger_run` (deadline 0.6 s, no retries) over `runs` runs (default 3)
of each behaviour, sync and async, against the hostile suite's servers on 127.0.0.1.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hostile.hostile_server import (
    CALLS,
    DEADLINE,
    HostileServer,
    drip,
    drip_head,
    early_hints,
    perform,
    response,
    stall,
)

DRIP_HEAD = response(202, headers={"Content-Type": "application/json", "Content-Length": "100000"})
BEHAVIOURS = {
    "drip_body": lambda: drip(DRIP_HEAD, 3),
    "drip_head": lambda: drip_head(3),
    "103_forever": lambda: early_hints(3),
    "stall": lambda: stall(3),
}


def main(runs: int) -> None:
    """Print the worst overrun of each behaviour and mode."""
    for name, make in BEHAVIOURS.items():
        for mode in ("sync", "async"):
            worst, error = 0.0, ""
            for _ in range(runs):
                with HostileServer(make()) as server:
                    outcome = perform(mode, server, CALLS["trigger_run"].action)
                worst, error = max(worst, outcome.elapsed - DEADLINE), type(outcome.error).__name__
            print(f"{name:12} {mode:5} worst overrun {worst * 1000:6.1f} ms over {runs} runs ({error})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
