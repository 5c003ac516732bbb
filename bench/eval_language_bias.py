"""Language bias in a mixed-language pool, before and after per-language centering.

The pool holds one description per topic, the languages rotating over the topics; every
topic is then asked for in every other language. A biased model answers with a document in the
query's own language instead of the right topic. Top-1 accuracy and the share of answers in
the query's own language are reported with and without the correction.

Run: .venv/bin/python -m bench.eval_language_bias [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from matcher.engine.centering import LanguageCentering
from matcher.engine.embedding import Embedder

EVAL_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "bias_eval.json"


def load_items(path: Path = EVAL_SET) -> list[dict[str, str]]:
    return [item["texts"] for item in json.loads(path.read_text("utf-8"))["items"]]


def evaluate(
    embedder: Embedder, centering: LanguageCentering, items: list[dict[str, str]]
) -> dict[str, dict[str, float]]:
    """Top-1 accuracy and own-language share, raw and corrected, over every pool rotation."""
    languages = sorted(items[0])
    passages = {lang: embedder.encode([item[lang] for item in items], "passage") for lang in languages}
    queries = {lang: embedder.encode([item[lang] for item in items], "query") for lang in languages}
    tallies = {name: {"hits": 0, "own_language": 0, "asked": 0} for name in ("raw", "corrected")}
    topics = np.arange(len(items))
    for shift in range(len(languages)):
        pool_languages = [languages[(topic + shift) % len(languages)] for topic in topics]
        pool_raw = np.stack([passages[lang][topic] for topic, lang in zip(topics, pool_languages, strict=True)])
        pool = {"raw": pool_raw, "corrected": centering.apply(pool_raw, pool_languages, "passage")}
        for lang in languages:
            asked = topics[[pool_languages[t] != lang for t in topics]]
            query_raw = queries[lang][asked]
            query = {"raw": query_raw, "corrected": centering.apply(query_raw, [lang] * len(asked), "query")}
            for name, tally in tallies.items():
                best = np.argmax(query[name] @ pool[name].T, axis=1)
                tally["hits"] += int(np.sum(best == asked))
                tally["own_language"] += sum(pool_languages[b] == lang for b in best)
                tally["asked"] += len(asked)
    return {
        name: {
            "top1": t["hits"] / t["asked"],
            "own_language_share": t["own_language"] / t["asked"],
            "queries": t["asked"],
        }
        for name, t in tallies.items()
    }


def main() -> None:
    from matcher.config import REPO_ROOT

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO_ROOT / "models" / "multilingual-e5-small"))
    parser.add_argument("--strengths", default="0.25,0.5,0.75,1", help="correction strengths to compare")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    embedder = Embedder(args.model)
    items = load_items()
    centering = LanguageCentering.fit(embedder)
    results = {}
    for strength in (float(s) for s in args.strengths.split(",")):
        result = evaluate(embedder, centering.scaled(strength), items)
        results["raw"] = result["raw"]
        results[f"strength {strength:g}"] = result["corrected"]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"pool of {len(items)} topics in {len(items[0])} rotating languages")
    for name, values in results.items():
        share = values["own_language_share"]
        print(f"{name:14} top-1 {values['top1']:.3f}  own-language share {share:.3f}  ({values['queries']} queries)")


if __name__ == "__main__":
    main()
