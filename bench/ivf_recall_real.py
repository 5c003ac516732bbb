"""Recall@10 of the approximate (IVF) index against exact search on real e5 vectors.

bench/index_scale.py measures the index at 1M on synthetic vectors, whose clusters are cleaner than
real ones (IVF recall is 1.000 there even at nprobe 4). This runs the same index policy on the real
passage vectors of an instance (the ESIF operations after `matcher import`), with the language
correction the app applies. Each query is an operation's summary embedded in the query role and
searched with that operation's country excluded (as match() does: the allow-list is every other
country), so it never finds itself.

Compared: the app's policy at the instance's size (nlist = 4 sqrt(n), nprobe = nlist / 32, k-means on
at most 64 vectors per list), the same with fewer probes, and with k-means on fewer vectors per
list; each against IndexFlatIP over the same vectors with the same allow-list. The app searches an
allow-list of at most 50,000 ids exactly even on IVF (EXACT_ALLOW_LIMIT), which would cover every
query here; that limit is set to 0 in this run so that the probing itself is measured.

Run: MATCHER_INSTANCE_PATH=/tmp/esif .venv/bin/python -m bench.ivf_recall_real [--queries 300]
"""

from __future__ import annotations

import argparse
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
from matcher.partners.models import Embedding, Organisation

K = 10
POOL = 100


def _stored() -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], list[str]]:
    """Ids, corrected passage vectors, countries, descriptions and languages of every organisation
    (whichever backend stored the vectors: recall compares two searches of the same vectors)."""
    service = index_service()
    rows = db.session.execute(
        select(
            Organisation.id,
            Organisation.country,
            Organisation.description,
            Organisation.description_language,
            Embedding.description,
        )
        .join(Embedding)
        .order_by(Organisation.id)
    ).all()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    languages = [r[3] for r in rows]
    corrected = service.centering.apply(np.stack([from_bytes(r[4]) for r in rows]), languages, "passage")
    return ids, corrected.astype(np.float32), np.array([r[1] for r in rows]), [r[2] for r in rows], languages


def _recall(
    index: VectorIndex, exact: VectorIndex, queries: np.ndarray, allowed: list[set[int]]
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
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        ids, vectors, countries, texts, languages = _stored()
        rng = np.random.default_rng(args.seed)
        picked = rng.choice(len(ids), min(args.queries, len(ids)), replace=False)
        service = index_service()
        raw = service.embedder.encode([texts[p] for p in picked], "query")
        queries = service.centering.apply(raw, [languages[p] for p in picked], "query").astype(np.float32)
    index_module.EXACT_ALLOW_LIMIT = 0
    everyone = set(ids.tolist())
    by_country = {c: set(ids[countries == c].tolist()) for c in set(countries)}
    allowed = [everyone - by_country[countries[p]] for p in picked]
    exact = VectorIndex.build(vectors.shape[1], ids, vectors, approx_threshold=len(ids) + 1)
    nlist = ivf_nlist(len(ids))
    print(f"{len(ids)} real vectors, {len(picked)} queries, nlist {nlist}; faiss threads {faiss.omp_get_max_threads()}")
    print("| k-means vectors per list | nprobe | recall@10 | ms per search (pool 100) |")
    print("|---|---|---|---|")
    for per_list in (index_module.TRAINING_VECTORS_PER_LIST, 16):
        index_module.TRAINING_VECTORS_PER_LIST = per_list
        approx = VectorIndex.build(vectors.shape[1], ids, vectors, approx_threshold=0)
        for nprobe in sorted({ivf_nprobe(nlist), max(1, ivf_nprobe(nlist) // 2), max(1, ivf_nprobe(nlist) // 4)}):
            approx.index.nprobe = nprobe
            recall, ms = _recall(approx, exact, queries, allowed)
            print(f"| {per_list} | {nprobe} | {recall:.3f} | {ms:.1f} |")
    recall, ms = _recall(exact, exact, queries, allowed)
    print(f"| exact | - | {recall:.3f} | {ms:.1f} |")


if __name__ == "__main__":
    main()
