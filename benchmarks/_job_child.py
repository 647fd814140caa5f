"""Row 15's job: a journaled `run_many` in a process of its own, one line printed per result (killed at will).

`python -m benchmarks._job_child --base-url URL --agent ID --items N --journal PATH` runs
`Cxpa.run_many(agent, [("item-<i>", {"n": i}) ...], journal=PATH)` and prints, for each result as it
comes, one JSON line `[key, run_id, status]` (status the run's, or the error's type name), flushed.
"""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks._common import API_KEY
from cxpa_sdk import Cxpa


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--agent", type=int, required=True)
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--journal", required=True)
    args = parser.parse_args(argv)
    items = ((f"item-{n}", {"n": n}) for n in range(args.items))
    with Cxpa(base_url=args.base_url, ingest_api_key=API_KEY) as client:
        for finished in client.run_many(args.agent, items, journal=args.journal):
            status = finished.run.status.value if finished.run is not None else type(finished.error).__name__
            sys.stdout.write(json.dumps([finished.key, finished.run_id, status]) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
