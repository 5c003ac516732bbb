"""Recall@10 of the approximate (IVF) index against exact search on real e5 vectors.

bench/index_scale.py measures the index at 1M on synthetic vectors, whose clusters are cleaner than
real ones (IVF recall is 1.000 there even at nprobe 4). This runs the same index policy on real
passage vectors of ESIF operation summaries stored in an instance: those of its organisations
(after `matcher import`) and those kept for an unfinished import (pending_vectors). Queries are
other ESIF summaries embedded in the query role by the configured backend, searched without a
filter and with a random half of the ids allowed (a filter). The app searches an allow-list of at
most 50,000 ids exactly even on IVF (EXACT_ALLOW_LIMIT), which would cover every filtered query
here; that limit is set to 0 in this run so that the probing itself is measured.

Compared: the app's policy at this size (nlist = 4 sqrt(n), nprobe = nlist / 6 but at least 16,
k-means on at most 64 vectors per list), fewer probes, and k-means on 16 vectors per list; each
against an exact search of the same vectors with the same allow-list. Vectors are used raw (the
language correction moves every vector of a language alike and is left out here).

Run: MATCHER_INSTANCE_PATH=/tmp/esif .venv/bin/python -m bench.ivf_recall_real [--queries 300]
"""

from __future__ import annotations

import argparse
import csv
import time

import faiss
import numpy as np
from sqlalchemy import select

from matcher import create_app
from matcher.engine import index as index_module
from matcher.engine.embedding import from_bytes
from matcher.engine.index import VectorIndex, ivf_nlist, ivf_nprobe
from matcher.extensions import db
from matcher.partners.indexing import index_service
from matcher.partners.models import Embedding
from matcher.partners.vector_cache import PendingVector

K = 10
POOL = 100


def _stored_vectors() -> np.ndarray:
    stored = [from_bytes(blob) for blob in db.session.scalars(select(Embedding.description))]
    stored += [from_bytes(blob) for blob in db.session.scalars(select(PendingVector.vector))]
    if not stored:
        raise SystemExit("no stored vectors: import ../shared/data/esif/operations.csv into this instance first")
    return np.stack(stored).astype(np.float32)


def _recall(
    index: VectorIndex, exact: VectorIndex, queries: np.ndarray, allowed: list[set[int] | None]
) -> tuple[float, float]:
    """recall@10 of the first ten of a pool-100 search, and the mean milliseconds per search."""
    hits, seconds = 0, 0.0
    for query, allow in zip(queries, allowed, strict=True):
        truth = {i for i, _ in exact.search(query, K, allow)}
        start = time.perf_counter()
        found = index.search(query, POOL, allow)[:K]
        seconds += time.perf_counter() - start
        hits += len(truth & {i for i, _ in found})
    return hits / (K * len(queries)), 1000 * seconds / len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--esif", default="../shared/data/esif/operations.csv")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--nprobes", type=int, nargs="*", help="lists probed (default: the app's, 1/2 and 1/4 of it)")
    parser.add_argument("--per-list", type=int, nargs="*", default=[64, 16], help="k-means vectors per list")
    args = parser.parse_args()
    with open(args.esif, encoding="utf-8") as handle:
        summaries = [row["summary"] for row in csv.DictReader(handle) if row["summary"]]
    rng = np.random.default_rng(args.seed)
    texts = [summaries[i] for i in rng.choice(len(summaries), args.queries, replace=False)]
    with create_app().app_context():
        vectors = _stored_vectors()
        queries = index_service().embedder.encode(texts, "query")
    ids = np.arange(1, len(vectors) + 1, dtype=np.int64)
    half = set(rng.choice(ids, len(ids) // 2, replace=False).tolist())
    cases = {"no filter": [None] * len(queries), "half of the ids allowed": [half] * len(queries)}
    index_module.EXACT_ALLOW_LIMIT = 0
    exact = VectorIndex.build(vectors.shape[1], ids, vectors, approx_threshold=len(ids) + 1)
    nlist = ivf_nlist(len(ids))
    print(
        f"{len(ids)} real vectors, {len(queries)} queries, nlist {nlist}, FAISS threads {faiss.omp_get_max_threads()}"
    )
    print("| k-means vectors per list | nprobe | case | recall@10 | ms per search (pool 100) |")
    print("|---|---|---|---|---|")
    nprobes = args.nprobes or sorted(
        {ivf_nprobe(nlist), max(1, ivf_nprobe(nlist) // 2), max(1, ivf_nprobe(nlist) // 4)}
    )
    for per_list in args.per_list:
        index_module.TRAINING_VECTORS_PER_LIST = per_list
        approx = VectorIndex.build(vectors.shape[1], ids, vectors, approx_threshold=0)
        for nprobe in nprobes:
            approx.index.nprobe = nprobe
            for case, allowed in cases.items():
                recall, ms = _recall(approx, exact, queries, allowed)
                print(f"| {per_list} | {nprobe} | {case} | {recall:.3f} | {ms:.1f} |")


if __name__ == "__main__":
    main()
