"""Recall@10 of the approximate (IVF) index against exact search on real e5 vectors, as the pool grows.

bench/index_scale.py measures the index at 1M on synthetic vectors, whose clusters are cleaner than
real ones (IVF recall is 1.000 there even at a 32nd of the lists probed). This measures the probing
policy on real passage vectors: the ESIF operation summaries and each of their sentences (about
100,000 texts, embedded once in the passage role and kept in --cache), at several pool sizes, so that
the share of lists a given recall needs can be followed towards 1M. Queries are 300 other summaries
(held out with their sentences) in the query role.

Each pool is indexed two ways: one IVF over every vector, and one IVF per country (how the app
indexes it: VectorIndex partitions; nlist = 4 sqrt(n) per index, k-means on at most 64 vectors per
list). Each is searched with pool 100, as match() does, in three cases: no filter; what match()
allows (every vector outside the query's country: a post-filtered search of one IVF, the other
countries' indexes searched whole when split); a random tenth of the ids (a country filter in a
27-country catalogue). Narrow allow-lists are normally searched exactly
(EXACT_ALLOW_LIMIT); that limit is set to 0 here so that the probing itself is measured. Vectors get
the language-bias correction of the app (its model, backend and strength), as the index holds them.

Run: MATCHER_EMBED_BACKEND=onnx-int8 MATCHER_INSTANCE_PATH=/tmp/x .venv/bin/python -m bench.ivf_recall_real
     [--sizes 25000 74348] [--divisors 8 6 4 3]
(the first run embeds the texts: about an hour on 2 cores with the int8 backend, longest texts last.)
--graphs compares HNSW graphs on the whole pool instead: one over every vector, and one per country
searched for every country but the query's (what match() asks for).
"""

from __future__ import annotations

import argparse
import csv
import re
import time
from pathlib import Path

import faiss
import numpy as np
from tqdm import tqdm

from bench.index_scale import value_range
from matcher import create_app
from matcher.engine import index as index_module
from matcher.engine.centering import LanguageCentering
from matcher.engine.embedding import Embedder
from matcher.engine.index import VectorIndex
from matcher.partners.indexing import index_service

K = 10
POOL = 100
SENTENCE = re.compile(r"(?<=[.!?])\s+")
MIN_SENTENCE = 40


def _texts(esif: Path, queries: int, seed: int) -> dict[str, list[str]]:
    """Passages (summaries and their sentences) and queries (held-out summaries, whose sentences are
    not among the passages), each with the country and language of its operation."""
    with open(esif, encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["summary"]]
    held = set(np.random.default_rng(seed).choice(len(rows), queries, replace=False).tolist())
    found: dict[str, list[str]] = {key: [] for key in ("passages", "countries", "languages")}
    for n, row in enumerate(rows):
        if n in held:
            continue
        parts = [part for part in SENTENCE.split(row["summary"]) if len(part) >= MIN_SENTENCE]
        for text in dict.fromkeys([row["summary"], *parts]):
            found["passages"].append(text)
            found["countries"].append(row["country"])
            found["languages"].append(row["language"])
    asked = [rows[n] for n in sorted(held)]
    found["queries"] = [r["summary"] for r in asked]
    found["query_countries"] = [r["country"] for r in asked]
    found["query_languages"] = [r["language"] for r in asked]
    return found


def _embedded(args: argparse.Namespace, embedder: Embedder) -> dict[str, np.ndarray]:
    """Raw passage and query vectors with their countries and languages, embedded once and kept in
    the cache file."""
    texts = _texts(args.esif, args.queries, args.seed)
    labels = {key: np.array(values) for key, values in texts.items() if key not in ("passages", "queries")}
    if args.cache.is_file():
        with np.load(args.cache) as stored:
            return {"passages": stored["passages"], "queries": stored["queries"], **labels}
    passages = texts["passages"]
    by_length = np.argsort([len(t) for t in passages])
    vectors = np.zeros((len(passages), embedder.dim), dtype=np.float32)
    for start in tqdm(range(0, len(passages), 256), desc="passages", unit="x256"):
        chunk = by_length[start : start + 256]
        vectors[chunk] = embedder.encode([passages[i] for i in chunk], "passage")
    stored = {"passages": vectors, "queries": embedder.encode(texts["queries"], "query")}
    np.savez(args.cache, **stored)
    return {**stored, **labels}


def _corrected(stored: dict[str, np.ndarray], centering: LanguageCentering) -> dict[str, np.ndarray]:
    """The vectors as the app indexes and asks them: with the language-bias correction."""
    return {
        **stored,
        "passages": centering.apply(stored["passages"], stored["languages"].tolist(), "passage"),
        "queries": centering.apply(stored["queries"], stored["query_languages"].tolist(), "query"),
    }


def _distinct(stored: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Passages without repeated vectors: ESIF repeats boilerplate sentences (one 3,262 times), and
    among identical vectors which ones are "the" ten nearest is arbitrary."""
    passages = stored["passages"]
    rows = passages.view(np.dtype((np.void, passages.dtype.itemsize * passages.shape[1]))).ravel()
    first = np.sort(np.unique(rows, return_index=True)[1])
    return {**stored, **{key: stored[key][first] for key in ("passages", "countries", "languages")}}


def _recall(
    index: VectorIndex, exact: VectorIndex, vectors: np.ndarray, queries: np.ndarray, allowed: list[set[int] | None]
) -> tuple[float, float]:
    """recall@10 of the first ten of a pool-100 search, and the mean milliseconds per search. A found
    vector as close to the query as the exact tenth (near-duplicates) counts as found."""
    hits, seconds = 0, 0.0
    for query, allow in zip(queries, allowed, strict=True):
        truth = exact.search(query, K, allow)
        start = time.perf_counter()
        found = index.search(query, POOL, allow)[:K]
        seconds += time.perf_counter() - start
        tenth = truth[-1][1] - 1e-6
        hits += sum(1 for i, _ in found if float(vectors[i - 1] @ query) >= tenth)
    return hits / (K * len(queries)), 1000 * seconds / len(queries)


def _graph_recall(
    graphs: dict[str, tuple[faiss.IndexHNSW, np.ndarray]],
    exact: VectorIndex,
    vectors: np.ndarray,
    queries: np.ndarray,
    allowed: list[set[int] | None],
    skipped: list[str],
    ef: int,
) -> tuple[float, float]:
    """Like _recall, for HNSW graphs (one per partition, rows are their ids - 1) merged by score,
    leaving out each query's skipped partition; an allow-list is given to the graphs as a selector
    unless a partition is skipped (the skipped country is then what the allow-list leaves out)."""
    hits, seconds = 0, 0.0
    for query, allow, skip in zip(queries, allowed, skipped, strict=True):
        truth = exact.search(query, K, allow)
        mask = np.zeros(len(vectors) + 1, dtype=bool)
        mask[list(allow) if allow is not None else slice(None)] = True
        start = time.perf_counter()
        found: list[tuple[float, int]] = []
        for name, (graph, rows) in graphs.items():
            if name == skip:
                continue
            bitmap = np.packbits(mask[rows + 1], bitorder="little")
            selector = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
            params = faiss.SearchParametersHNSW(efSearch=ef, sel=None if allow is None or skip else selector)
            scores, positions = graph.search(query.reshape(1, -1), min(POOL, len(rows)), params=params)
            found += [(float(s), int(rows[i]) + 1) for s, i in zip(scores[0], positions[0], strict=True) if i >= 0]
        found.sort(reverse=True)
        seconds += time.perf_counter() - start
        tenth = truth[-1][1] - 1e-6
        hits += sum(1 for _, i in found[:K] if float(vectors[i - 1] @ query) >= tenth)
    return hits / (K * len(queries)), 1000 * seconds / len(queries)


def _graphs(vectors: np.ndarray, partitions: np.ndarray, links: int) -> dict[str, tuple[faiss.IndexHNSW, np.ndarray]]:
    graphs = {}
    for name in sorted(set(partitions.tolist())):
        rows = np.flatnonzero(partitions == name)
        graph = faiss.IndexHNSWFlat(vectors.shape[1], links, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = 64
        graph.add(vectors[rows])
        graphs[name] = (graph, rows)
    return graphs


def _compare_graphs(stored: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    """HNSW over every vector, and one HNSW per country, on the whole pool (--graphs)."""
    vectors, countries, queries = stored["passages"], stored["countries"], stored["queries"]
    ids = np.arange(1, len(vectors) + 1, dtype=np.int64)
    exact = VectorIndex.build(vectors.shape[1], ids, vectors, approx_threshold=len(ids) + 1)
    abroad = {c: set(ids[countries != c].tolist()) for c in set(stored["query_countries"])}
    tenth = set(rng.choice(ids, len(ids) // 10, replace=False).tolist())
    none = [""] * len(queries)
    print("| graphs | links | efSearch | case | recall@10 | ms per search (pool 100) |")
    print("|---|---|---|---|---|---|")
    for links in (16, 32):
        whole = _graphs(vectors, np.zeros(len(vectors), dtype=int), links)
        per_country = _graphs(vectors, countries, links)
        for ef in (128, 256):
            runs = {
                ("one", "no filter"): (whole, [None] * len(queries), none),
                ("one", "outside the query's country"): (whole, [abroad[c] for c in stored["query_countries"]], none),
                ("one", "a tenth of the ids"): (whole, [tenth] * len(queries), none),
                ("one per country", "outside the query's country"): (
                    per_country,
                    [abroad[c] for c in stored["query_countries"]],
                    stored["query_countries"].tolist(),
                ),
            }
            for (kind, case), (graphs, allowed, skipped) in runs.items():
                recall, ms = _graph_recall(graphs, exact, vectors, queries, allowed, skipped, ef)
                print(f"| {kind} | {links} | {ef} | {case} | {recall:.3f} | {ms:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[12_500, 25_000, 50_000, 100_000])
    parser.add_argument(
        "--divisors", type=int, nargs="+", default=[8, 6, 4, 3], help="nprobe = nlist / divisor, at least 16"
    )
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--esif", type=Path, default=Path("../shared/data/esif/operations.csv"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/esif-vectors.npz"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--graphs", action="store_true", help="compare HNSW graphs instead (whole pool)")
    args = parser.parse_args()
    with create_app().app_context():
        service = index_service()
        stored = _distinct(_corrected(_embedded(args, service.embedder), service.centering))
    passages, countries, queries = stored["passages"], stored["countries"], stored["queries"]
    rng = np.random.default_rng(args.seed)
    if args.graphs:
        _compare_graphs(stored, rng)
        return
    index_module.EXACT_ALLOW_LIMIT = 0
    print(f"{len(passages)} real passage vectors, {len(queries)} queries, FAISS threads {faiss.omp_get_max_threads()}")
    print("| vectors | index | lists probed per index | case | recall@10 | ms per search (pool 100) |")
    print("|---|---|---|---|---|---|")
    for size in args.sizes:
        rows = np.sort(rng.choice(len(passages), min(size, len(passages)), replace=False))
        ids = np.arange(1, len(rows) + 1, dtype=np.int64)
        vectors = passages[rows]
        tenth = set(rng.choice(ids, len(ids) // 10, replace=False).tolist())
        abroad = {c: set(ids[countries[rows] != c].tolist()) for c in set(stored["query_countries"])}
        cases = {
            "no filter": [None] * len(queries),
            "outside the query's country": [abroad[c] for c in stored["query_countries"]],
            "a tenth of the ids": [tenth] * len(queries),
        }
        exact = VectorIndex.build(vectors.shape[1], ids, vectors, approx_threshold=len(ids) + 1)
        layouts = {
            "one IVF": VectorIndex.build(vectors.shape[1], ids, vectors, approx_threshold=0),
            "IVF per country": VectorIndex.build(
                vectors.shape[1], ids, vectors, approx_threshold=0, partitions=countries[rows].tolist()
            ),
        }
        for layout, approx in layouts.items():
            for divisor in args.divisors:
                probed = []
                for partition in approx.partitions.values():
                    partition.index.nprobe = min(partition.index.nlist, max(16, partition.index.nlist // divisor))
                    probed.append(partition.index.nprobe)
                for case, allowed in cases.items():
                    recall, ms = _recall(approx, exact, vectors, queries, allowed)
                    share = f"{value_range(probed)} (1/{divisor})"
                    print(f"| {len(ids)} | {layout} | {share} | {case} | {recall:.3f} | {ms:.1f} |")


if __name__ == "__main__":
    main()
