"""Latency of the hybrid search in one warm process over whatever database the instance holds:
search() (top 10), search_page() (result set, facets, one page) without and with a country
filter (one more retrieval for the disjunctive country counts), and the passages of one page.

Run: MATCHER_INSTANCE_PATH=/tmp/esif .venv/bin/python -m bench.search_latency [--runs 50]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from matcher import create_app
from matcher.matching import Filters, search, search_page
from matcher.matching.passages import passages

QUERIES = (
    "jeunes sans qualification",
    "coopérative d'énergie renouvelable",
    "réparation de vélos",
    "aide aux personnes âgées à domicile",
    "formation numérique des seniors",
)


def _page_with_passages(text: str) -> None:
    found = search_page(text)
    passages(text, [r.organisation for r in found.results])


CASES: dict[str, Callable[[str], object]] = {
    "search() k=10": lambda text: search(text, k=10),
    "search_page()": lambda text: search_page(text),
    "search_page() country=DE": lambda text: search_page(text, Filters(countries=("DE",))),
    "search_page() + passages": _page_with_passages,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        search("warm-up", k=10)
        for number, (name, case) in enumerate(CASES.items()):
            timings = []
            for run in range(args.runs):
                start = time.perf_counter()
                # A new number each time: no query vector comes from the encoder's cache.
                case(f"{QUERIES[run % len(QUERIES)]} {number * args.runs + run}")
                timings.append(time.perf_counter() - start)
            timings.sort()
            p95 = timings[int(0.95 * (len(timings) - 1))]
            print(f"{name}: {args.runs} runs, p50 {statistics.median(timings) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")


if __name__ == "__main__":
    main()
