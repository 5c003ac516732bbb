"""Embedding throughput on the ESIF summaries: our Embedder (what imports and edits use) against a
plain `SentenceTransformer.encode` of the same texts with the same prompt and batch size, in the same
run, alternating, so that the ratio says what our layer costs or saves. sentence-transformers
already sorts each call's texts by length, so batches hold texts of similar length.

Run: .venv/bin/python -m bench.embedding_speed [--texts 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from sentence_transformers import SentenceTransformer

from bench.eval_quality import read_operations
from matcher.config import load_config
from matcher.engine.embedding import Embedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    summaries = [o.summary for o in read_operations()]
    texts = random.Random(0).sample(summaries, args.texts)
    model_path = load_config(Path("instance"))["MATCHER_MODEL"]
    plain = SentenceTransformer(model_path, device="cpu")
    rates: dict[str, list[float]] = {"ours": [], "plain": []}
    for round_number in range(args.rounds):
        ours = Embedder(model_path, batch_size=args.batch)  # a fresh cache: every text is encoded
        batch = [f"{text} ({round_number})" for text in texts]
        started = time.perf_counter()
        ours.encode(batch, "passage")
        rates["ours"].append(len(batch) / (time.perf_counter() - started))
        started = time.perf_counter()
        plain.encode(batch, batch_size=args.batch, normalize_embeddings=True, prompt="passage: ")
        rates["plain"].append(len(batch) / (time.perf_counter() - started))
    ours_rate, plain_rate = statistics.median(rates["ours"]), statistics.median(rates["plain"])
    print(f"{args.texts} ESIF summaries, batch {args.batch}, median of {args.rounds} rounds")
    print(f"ours: {ours_rate:.1f} texts/s; plain sentence-transformers: {plain_rate:.1f} texts/s")
    print(f"ratio ours / plain: {ours_rate / plain_rate:.2f}")


if __name__ == "__main__":
    main()
