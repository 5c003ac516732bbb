"""The vector index at 10k, 100k and 1M organisations, on synthetic vectors: does the engine stay
fast, accurate and small enough as the catalogue grows, and where does the approximate index start?

Built the way the app builds it (VectorIndex.build with the MATCHER_APPROX_THRESHOLD given by
--approx-threshold, by default the app's 50,000: 10k is exact, 100k and 1M are IVF; split by the
organisations' countries, here 27 drawn at random), then measured per size:

- build time of one field (IVF training included), IndexBundle save time, file size and load time of a
  bundle with the three fields (description, offers, seeks; each holds the same built index, so one
  build stands for three: the cost of a field depends on its size, not on its contents);
- memory: the RSS a fresh process gains by loading the bundle (what each server worker holds), divided
  by organisations (three fields) and by vectors, its peak during the load, and the FAISS payload
  (serialised bytes) per vector;
- latency per query (p50/p95/p99) of search() with k=100 (match()'s pool for k=10): (a) no allow-list,
  (b) an allow-list of all ids (an IdSet, as the app passes), (c) a random 10 % of the ids (a country filter),
  and (d) what match() costs in the engine: three fields searched with pool 100 and the allow-list
  match() passes (all ids but the asking organisation's country, 1 of 27 random countries), then the
  stored vectors of the union of candidates read and scored, as ranking.scored_candidates does;
- recall@10 of the first ten of (a), (b), (c) against exact search (IndexFlatIP) over the same ids.

Vectors are not uniform on the sphere (every point nearly orthogonal to every other: IVF looks bad
and recall means nothing). They mimic multilingual-e5-small passage vectors: a common mean direction
plus a residual with a power-law spectrum (eigenvalue k ~ k^-0.78) made of 100 topics x 20 subtopics,
each owning 30 % of the residual variance, the rest within subtopics; normalised. Calibrated on 4,000
ESIF operation summaries embedded with the model (300 others as queries): real vs synthetic, norm of
the mean 0.887 vs 0.888, mean query-passage cosine 0.786 vs 0.784, mean cosine of the 1st / 10th /
100th nearest passage among 4,000: 0.900 / 0.869 / 0.841 vs 0.910 / 0.864 / 0.833. Queries are fresh
draws with 7 % more within-subtopic noise (query vectors sit a little further from their neighbours).

Latencies are single queries, one after the other, in one warm process (FAISS with its default
OpenMP threads, the machine's cores); load times read a file that was just written (page cache warm).

Run: .venv/bin/python -m bench.index_scale [--sizes 10000 100000 1000000] [--queries 200]
(--keep DIR keeps the snapshots; --reuse DIR then measures a changed search on them without building
again: the build column then holds the load time.)
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import resource
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from matcher.engine.id_set import IdSet
from matcher.engine.index import IndexBundle, VectorIndex

DIM = 384
APPROX_THRESHOLD = 50_000  # the app's MATCHER_APPROX_THRESHOLD
FIELDS = ("description", "offers", "seeks")
POOL = 100  # ranking._rank: max(MIN_POOL, 10 * k) for k=10
COUNTRIES = 27
FILTER_SHARE = 0.10
QUERY_NOISE = 1.07
CHUNK = 100_000


class SyntheticEmbeddings:
    """Unit vectors with the mean direction, spectrum and neighbourhood cosines of e5 sentence embeddings."""

    def __init__(self, seed: int = 0, topics: int = 100, subtopics: int = 20, share: float = 0.3) -> None:
        rng = np.random.default_rng(seed)
        self.basis = np.linalg.qr(rng.normal(size=(DIM, DIM)))[0].astype(np.float32)
        spectrum = np.arange(1, DIM + 1) ** -0.78
        self.scale = np.sqrt(spectrum / spectrum.sum() * 0.27).astype(np.float32)
        mean = rng.normal(size=DIM)
        self.mean = (mean / np.linalg.norm(mean)).astype(np.float32)
        centres = rng.normal(size=(topics, DIM)) * np.sqrt(share)
        self.subtopics = (
            np.repeat(centres, subtopics, axis=0) + rng.normal(size=(topics * subtopics, DIM)) * np.sqrt(share)
        ).astype(np.float32)
        self.within = np.float32(np.sqrt(1 - 2 * share))

    def draw(self, n: int, seed: int, noise: float = 1.0) -> np.ndarray:
        """n fresh vectors (float32, L2-normalised), drawn in chunks to bound the temporaries."""
        rng = np.random.default_rng(seed)
        out = np.empty((n, DIM), dtype=np.float32)
        for start in range(0, n, CHUNK):
            m = min(CHUNK, n - start)
            residual = self.subtopics[rng.integers(0, len(self.subtopics), size=m)]
            residual += rng.standard_normal(size=(m, DIM), dtype=np.float32) * (self.within * np.float32(noise))
            block = (residual * self.scale) @ self.basis.T + self.mean
            out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
        return out


def rss() -> int:
    """Resident set size of this process now, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def peak_rss() -> int:
    """The largest RSS this process has had, in bytes (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def rss_high_water() -> int:
    """The peak RSS of this process's own memory: unlike ru_maxrss, a spawned process does not
    inherit the parent's peak from the fork that preceded its exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _load_probe(path: str) -> dict[str, float]:
    """In a fresh process: what loading the snapshot costs a server worker in time and memory."""
    gc.collect()
    before = rss()
    start = time.perf_counter()
    bundle = IndexBundle.load(Path(path))
    seconds = time.perf_counter() - start
    gc.collect()
    query = np.zeros(DIM, dtype=np.float32)
    query[0] = 1
    assert bundle.field(FIELDS[0]).search(query, 1)
    return {"seconds": seconds, "held": rss() - before, "peak": rss_high_water() - before, "process": rss_high_water()}


def engine_match(bundle: IndexBundle, queries: np.ndarray, allowed: IdSet) -> dict[int, dict[str, float]]:
    """ranking.scored_candidates without the database: each field's pool, then every part scored exactly."""
    candidates: set[int] = set()
    for name, vector in zip(FIELDS, queries, strict=True):
        candidates.update(i for i, _ in bundle.field(name).search(vector, POOL, allowed))
    stored = {name: bundle.field(name).vectors(candidates) for name in FIELDS}
    return {
        i: {
            name: float(stored[name][i] @ vector)
            for name, vector in zip(FIELDS, queries, strict=True)
            if i in stored[name]
        }
        for i in candidates
    }


def timed(call: Callable[[int], object], runs: int) -> tuple[list[float], list[object]]:
    """Per-run wall times of call(run) after three warm-up runs, and what each run returned."""
    for run in range(min(3, runs)):
        call(run)
    times, results = [], []
    for run in range(runs):
        start = time.perf_counter()
        results.append(call(run))
        times.append(time.perf_counter() - start)
    return times, results


def percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[round(share * (len(ordered) - 1))]


def recall_at_10(found: Iterable[list[tuple[int, float]]], truth: np.ndarray) -> float:
    """Share of the exact top 10 found among the first ten returned, over all queries."""
    hits = [
        len({i for i, _ in result[:10]} & {int(t) for t in row if t >= 0})
        for result, row in zip(found, truth, strict=True)
    ]
    return sum(hits) / (10 * len(hits))


@dataclass
class SizeReport:
    n: int
    kind: str = ""
    ivf: str = ""
    build_seconds: float = 0.0
    build_rss: int = 0
    save_seconds: float = 0.0
    file_bytes: int = 0
    payload_bytes: int = 0
    load: dict[str, float] = field(default_factory=dict)
    cases: list[tuple[str, list[float], float | None]] = field(default_factory=list)


def measure(
    n: int,
    runs: int,
    generator: SyntheticEmbeddings,
    workdir: Path,
    seed: int,
    threshold: int = APPROX_THRESHOLD,
    reuse: Path | None = None,
) -> SizeReport:
    """Everything about one size; only the snapshot file outlives it."""
    report = SizeReport(n)
    rng = np.random.default_rng(seed + n)
    ids = np.arange(1, n + 1, dtype=np.int64)
    vectors = generator.draw(n, seed + n)
    queries = generator.draw(3 * runs, seed + n + 1, noise=QUERY_NOISE)
    country = rng.integers(0, COUNTRIES, size=n)

    gc.collect()
    before = rss()
    start = time.perf_counter()
    if reuse is not None:
        index = IndexBundle.load(reuse / f"index-{n}.npz").fields[FIELDS[0]]
    else:
        index = VectorIndex.build(DIM, ids, vectors, threshold, [f"C{c:02d}" for c in country])
    report.build_seconds = time.perf_counter() - start
    gc.collect()
    report.build_rss = rss() - before
    report.kind = f"{index.kind}, {len(index.partitions)} partitions"
    ivf = [p.index for p in index.partitions.values() if isinstance(p.index, faiss.IndexIVF)]
    if ivf:
        report.ivf = f"nlist {value_range([i.nlist for i in ivf])}, nprobe {value_range([i.nprobe for i in ivf])}"
    report.payload_bytes = sum(faiss.serialize_index(p.index).nbytes for p in index.partitions.values())

    exact = faiss.IndexFlatIP(DIM)
    exact.add(vectors)
    del vectors
    gc.collect()

    all_ids = IdSet(ids)
    share = rng.choice(ids, size=int(FILTER_SHARE * n), replace=False)
    filtered = IdSet(np.sort(share))
    others = IdSet(ids[country != 0])
    probe = queries[:runs]
    truth_all = exact.search(probe, 10)[1] + 1
    selector = faiss.IDSelectorBatch(np.sort(share) - 1)
    truth_filtered = exact.search(probe, 10, params=faiss.SearchParameters(sel=selector))[1] + 1
    truth_filtered[truth_filtered == 0] = -1
    del exact, selector
    gc.collect()

    cases: list[tuple[str, IdSet | None, np.ndarray | None]] = [
        ("(a) search k=100, no allow-list", None, truth_all),
        ("(b) search k=100, allow-list = all ids", all_ids, truth_all),
        ("(c) search k=100, allow-list = random 10 %", filtered, truth_filtered),
    ]
    for name, allowed, truth in cases:
        times, found = timed(lambda run, allowed=allowed, index=index: index.search(probe[run], POOL, allowed), runs)
        report.cases.append((name, times, recall_at_10(found, truth)))

    bundle = IndexBundle(dim=DIM, model_id="synthetic", fields={name: index for name in FIELDS})
    times, _ = timed(
        lambda run, bundle=bundle, others=others: engine_match(bundle, queries[3 * run : 3 * run + 3], others), runs
    )
    report.cases.append(("(d) match() engine: 3 fields, pool 100, vectors()", times, None))

    path = workdir / f"index-{n}.npz"
    start = time.perf_counter()
    bundle.save(path)
    report.save_seconds = time.perf_counter() - start
    report.file_bytes = path.stat().st_size
    del bundle, index, all_ids, filtered, others
    gc.collect()
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        report.load = pool.apply(_load_probe, (str(path),))
    return report


def value_range(values: list[int]) -> str:
    """The one value, or the range: 16, or 16-32."""
    return str(values[0]) if min(values) == max(values) else f"{min(values)}-{max(values)}"


def _mb(value: float) -> str:
    return f"{value / 2**20:,.0f}"


def print_reports(reports: list[SizeReport]) -> None:
    print(
        "\n| N | index | build 1 field (s) | save 3 fields (s) | file (MB) | load (s) | RSS held (MB) "
        "| RSS / org, 3 fields (B) | RSS / vector (B) | FAISS bytes / vector | load peak (MB) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in reports:
        vectors = 3 * r.n
        print(
            f"| {r.n:,} | {r.kind} {r.ivf} | {r.build_seconds:.1f} | {r.save_seconds:.1f} | {_mb(r.file_bytes)} "
            f"| {r.load['seconds']:.1f} | {_mb(r.load['held'])} | {r.load['held'] / r.n:,.0f} "
            f"| {r.load['held'] / vectors:,.0f} | {r.payload_bytes / r.n:,.0f} | {_mb(r.load['peak'])} |"
        )
    print("\n| N | case | p50 (ms) | p95 (ms) | p99 (ms) | recall@10 |")
    print("|---|---|---|---|---|---|")
    for r in reports:
        for name, times, recall in r.cases:
            shown = "" if recall is None else f"{recall:.3f}"
            print(
                f"| {r.n:,} | {name} | {percentile(times, 0.5) * 1000:.1f} | {percentile(times, 0.95) * 1000:.1f} "
                f"| {percentile(times, 0.99) * 1000:.1f} | {shown} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--approx-threshold", type=int, default=APPROX_THRESHOLD, help="the app's by default")
    parser.add_argument(
        "--reuse", type=Path, help="load the indexes a --keep run wrote (same seed) instead of building them"
    )
    parser.add_argument("--keep", type=Path, help="write the snapshots here and keep them")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"FAISS {faiss.__version__}, OpenMP threads {faiss.omp_get_max_threads()}, dim {DIM}, {args.queries} queries")
    generator = SyntheticEmbeddings(args.seed)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="index-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    reports = []
    try:
        for n in args.sizes:
            reports.append(measure(n, args.queries, generator, workdir, args.seed, args.approx_threshold, args.reuse))
            print(f"{n:,} done after {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir)
    print_reports(reports)
    children = max(r.load["process"] for r in reports)
    print(
        f"\nwhole run: {time.perf_counter() - started:.0f} s, peak RSS {_mb(peak_rss())} MB "
        f"(load probes, in their own processes: {_mb(children)} MB)"
    )


if __name__ == "__main__":
    main()
