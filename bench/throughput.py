"""Matches per second under load: gunicorn with 2 workers on the instance, wrk on loopback posting
profiles to /api/v1/match, plus the server's start-up time and each worker's peak memory.

By default every request brings a description never seen before, so every match embeds its text:
the worst case. With --refinements R, each new description is followed by R matches of the same
description with other country filters, as a user narrowing the suggestions sends them; with
MATCHER_VECTOR_CACHE_URL set, those find the query vector in Redis whichever worker answers.

wrk shares the 2 cores with the server, as a load balancer's health would not; the figure is a floor.
Needs wrk (`apt-get install wrk`).

Runs of the same command vary by about 10 % on these machines: --runs N loads the same server N
times, each run with texts of its own, and prints the median.

Run: MATCHER_INSTANCE_PATH=/tmp/scale-100k .venv/bin/python -m bench.throughput --runs 5
    (also --duration 30, --connections 4, --workers 2, --refinements 0: the defaults)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from matcher.partners.examples import example_records

REPO = Path(__file__).resolve().parents[1]
LUA = """
bodies = {%s}
filters = {%s}
refinements = %d
threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread", threads)
end
n = 0
request = function()
  local session = math.floor(n / (refinements + 1))
  local body = string.gsub(bodies[(session %% #bodies) + 1], "@@N@@", thread .. "-" .. session)
  body = string.gsub(body, "@@FILTERS@@", filters[(n %% (refinements + 1)) + 1])
  n = n + 1
  return wrk.format("POST", "/api/v1/match", {["Content-Type"] = "application/json"}, body)
end
"""
# What a user narrows a match with, in turn: no filter first, then a few countries at a time.
REFINED_COUNTRIES = [[], ["DE", "AT"], ["IT", "ES", "PT"], ["PL", "CZ", "SK"], ["NL", "BE"], ["SE", "DK", "FI"]]


def _lua(refinements: int) -> str:
    run = secrets.token_hex(4)  # texts new to this run: a shared vector cache remembers earlier runs
    bodies = [
        json.dumps(
            {
                "profile": {"description": f"{r['description']} ({run}-@@N@@)", "country": r["country"]},
                "filters": "@@FILTERS@@",
                "limit": 10,
            }
        ).replace('"@@FILTERS@@"', "@@FILTERS@@")
        for r in example_records()
    ]
    filters = [json.dumps({"country": REFINED_COUNTRIES[i % len(REFINED_COUNTRIES)]}) for i in range(refinements + 1)]
    return LUA % (
        ",\n".join(f"[==[{body}]==]" for body in bodies),
        ", ".join(f"[==[{f}]==]" for f in filters),
        refinements,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    """VmHWM of the process: its peak resident memory."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def _load(url: str, args: argparse.Namespace) -> float:
    """One wrk run with descriptions new to it; its matches per second (0 if any request failed)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(args.refinements))
    wrk = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency", "-s", script.name, url]
    output = subprocess.run(wrk, capture_output=True, text=True, check=True).stdout
    print(output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    print(f"matches/s: {rate.group(1) if rate else '?'}; errors: {errors.group(1) if errors else 0}")
    return float(rate.group(1)) if rate and not errors else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--refinements", type=int, default=0, help="matches of the same description after each new one")
    parser.add_argument("--runs", type=int, default=1, help="wrk runs against the same server; the median is printed")
    args = parser.parse_args()
    port = _free_port()
    # one thread per worker, as `make run-prod` sets: torch and FAISS each start a thread per core, and
    # two workers' spinning threads on two cores cost 6x in throughput (3 instead of 17 matches/s at 100k)
    env = {**os.environ, "MATCHER_API_LIMIT": "1000000 per minute", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)]
    started = time.perf_counter()
    server = subprocess.Popen([*command, "wsgi:app"], cwd=REPO, env=env, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        print(f"start-up to first answer: {time.perf_counter() - started:.1f} s")
        # every worker loads its model on its own: wait until both answer a match
        for _ in range(args.workers * 3):
            body = {"profile": {"description": "warm-up: cooperative repairing bicycles", "country": "FR"}}
            requests.post(f"{url}/api/v1/match", json=body, timeout=120).raise_for_status()
        rates = [_load(url, args) for _ in range(args.runs)]
        print(f"matches/s per run: {', '.join(f'{rate:.1f}' for rate in rates)}; median {statistics.median(rates):.1f}")
        print("peak memory per worker (MB):", [round(_peak_rss_mb(pid)) for pid in _workers(server.pid)])
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
