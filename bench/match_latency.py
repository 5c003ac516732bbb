"""Latency of match() at the instance's size, in one warm process and, when a server address is
given, end to end through HTTP (POST /api/v1/match). In the process, the query's embedding is timed
first (model and language-bias correction: the same cost at any size), then match() on the same
texts, whose embeddings are now cached: the engine's own part (filters, retrieval over one field per
part of the profile, exact scoring, explanation), which is what grows with the collection. --parts 3
gives each profile what it offers and seeks as well: three fields searched, three texts embedded.
Through HTTP every text is new.
The queries are the example organisations' descriptions, in their 20-odd languages, each from its
own country.

Run: MATCHER_INSTANCE_PATH=/tmp/scale-100k .venv/bin/python -m bench.match_latency [--runs 200]
     [--server http://127.0.0.1:5000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

import requests
from sqlalchemy import func, select

from matcher import create_app
from matcher.extensions import db
from matcher.matching import Profile, match
from matcher.matching.ranking import query_vector
from matcher.partners.examples import example_records
from matcher.partners.models import Organisation


def queries(runs: int, parts: int) -> list[Profile]:
    """`runs` distinct profiles (a suffix tells repeated texts apart): the description alone, or with
    what the organisation offers and seeks (three parts: three fields searched)."""
    records = example_records()
    profiles = []
    for n in range(runs):
        record, suffix = records[n % len(records)], f" ({n // len(records)})"
        whole = parts == 3
        profiles.append(
            Profile(
                description=record["description"] + suffix,
                country=record["country"],
                offers=record["offers"] + suffix if whole else "",
                seeks=record["seeks"] + suffix if whole else "",
            )
        )
    return profiles


def _embedded(profile: Profile) -> None:
    for text in (profile.description, profile.offers, profile.seeks):
        if text:
            query_vector(text, "")


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
        fields = ("description", "country", "offers", "seeks")
        body = {"profile": {name: getattr(profile, name) for name in fields if getattr(profile, name)}, "limit": 10}
        response = session.post(f"{server}/api/v1/match", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--server", help="also measure through HTTP against this running server")
    parser.add_argument(
        "--parts", type=int, choices=(1, 3), default=1, help="description alone, or with offers and seeks"
    )
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        size = db.session.scalar(select(func.count()).select_from(Organisation))
        match(Profile(description="warm-up: a cooperative repairing bicycles", country="FR"))
        profiles = queries(args.runs, args.parts)
        embedding = timed(_embedded, profiles)
        engine = timed(lambda profile: match(profile, k=10), profiles)
    print(f"{size} organisations, {args.runs} distinct queries of {args.parts} part(s)")
    print(f"query embedding: {percentiles(embedding)}")
    print(f"engine, match() k=10 with the query embedded: {percentiles(engine)}")
    if args.server:
        fresh = [replace(p, description=p.description + " http") for p in queries(args.runs, args.parts)]
        http = timed(_over_http(args.server), fresh)
        print(f"HTTP, POST /api/v1/match: {percentiles(http)}")


if __name__ == "__main__":
    main()
