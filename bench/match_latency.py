"""Latency of match() at the instance's size: in one warm process (the engine: query embedding,
language-bias correction, index retrieval over three fields, exact scoring, explanation) and, when
a server address is given, end to end through HTTP (POST /api/v1/match). Every query is a text not
asked before (the embedding cache never answers): the example organisations' descriptions, in
their 20-odd languages, each from its own country.

Run: MATCHER_INSTANCE_PATH=/tmp/scale-100k .venv/bin/python -m bench.match_latency [--runs 200]
     [--server http://127.0.0.1:5000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import requests
from sqlalchemy import func, select

from matcher import create_app
from matcher.extensions import db
from matcher.matching import Profile, match
from matcher.partners.examples import example_records
from matcher.partners.models import Organisation


def queries(runs: int) -> list[Profile]:
    """`runs` distinct profiles (a suffix tells repeated descriptions apart)."""
    records = example_records()
    return [
        Profile(
            description=f"{records[n % len(records)]['description']} ({n // len(records)})",
            country=records[n % len(records)]["country"],
        )
        for n in range(runs)
    ]


def percentiles(timings: list[float]) -> str:
    cuts = statistics.quantiles(timings, n=100)
    return f"p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms"


def timed(call: Callable[[Profile], object], profiles: list[Profile]) -> list[float]:
    timings = []
    for profile in profiles:
        start = time.perf_counter()
        call(profile)
        timings.append(time.perf_counter() - start)
    return timings


def _over_http(server: str) -> Callable[[Profile], object]:
    session = requests.Session()

    def call(profile: Profile) -> object:
        body = {"profile": {"description": profile.description, "country": profile.country}, "limit": 10}
        response = session.post(f"{server}/api/v1/match", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--server", help="also measure through HTTP against this running server")
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        size = db.session.scalar(select(func.count()).select_from(Organisation))
        match(Profile(description="warm-up: a cooperative repairing bicycles", country="FR"))
        engine = timed(lambda profile: match(profile, k=10), queries(args.runs))
    print(f"{size} organisations, {args.runs} distinct queries")
    print(f"engine, match() k=10: {percentiles(engine)}")
    if args.server:
        http = timed(_over_http(args.server), [Profile(p.description + " http", p.country) for p in queries(args.runs)])
        print(f"HTTP, POST /api/v1/match: {percentiles(http)}")


if __name__ == "__main__":
    main()
