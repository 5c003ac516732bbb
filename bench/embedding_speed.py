"""Embedding throughput on the ESIF summaries: our Embedder (what imports and edits use) against a
plain `SentenceTransformer.encode` of the same texts with the same prompt and batch size, in the same
run, alternating, so that the ratio says what our layer costs or saves. sentence-transformers
already sorts each call's texts by length, so batches hold texts of similar length. Our Embedder
runs once per backend (float32 torch, and the int8 ONNX transformer, one text per call).

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
from matcher.engine.embedding import BACKENDS, Embedder


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
    rates: dict[str, list[float]] = {backend: [] for backend in BACKENDS} | {"plain": []}
    for round_number in range(args.rounds):
        batch = [f"{text} ({round_number})" for text in texts]
        for backend in BACKENDS:
            ours = Embedder(model_path, batch_size=args.batch, backend=backend)  # a fresh cache: all encoded
            ours.encode(["warm-up"], "passage")
            started = time.perf_counter()
            ours.encode(batch, "passage")
            rates[backend].append(len(batch) / (time.perf_counter() - started))
        started = time.perf_counter()
        plain.encode(batch, batch_size=args.batch, normalize_embeddings=True, prompt="passage: ")
        rates["plain"].append(len(batch) / (time.perf_counter() - started))
    median = {name: statistics.median(values) for name, values in rates.items()}
    print(f"{args.texts} ESIF summaries, batch {args.batch}, median of {args.rounds} rounds")
    print(f"plain sentence-transformers: {median['plain']:.1f} texts/s")
    for backend in BACKENDS:
        print(f"ours, {backend}: {median[backend]:.1f} texts/s, ratio to plain {median[backend] / median['plain']:.2f}")


if __name__ == "__main__":
    main()
