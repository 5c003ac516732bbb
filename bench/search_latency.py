"""Latency of search() in one warm process over whatever database the instance holds.

Run: MATCHER_INSTANCE_PATH=/tmp/esif .venv/bin/python -m bench.search_latency [--runs 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

from matcher import create_app
from matcher.matching import search

QUERIES = (
    "jeunes sans qualification",
    "coopérative d'énergie renouvelable",
    "réparation de vélos",
    "aide aux personnes âgées à domicile",
    "formation numérique des seniors",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        search("warm-up", k=10)
        timings = []
        for run in range(args.runs):
            start = time.perf_counter()
            search(f"{QUERIES[run % len(QUERIES)]} {run}", k=10)
            timings.append(time.perf_counter() - start)
    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))]
    print(f"{args.runs} searches: p50 {statistics.median(timings) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")


if __name__ == "__main__":
    main()
