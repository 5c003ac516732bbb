"""Matching quality on real data, against baselines, per query / document language pair.

Corpus: EU-funded operations from ../shared/data/esif/operations.csv (nine languages): a seeded sample
per language, every operation judged for a hand-written request, and every coded English and Greek
operation (CODED_IN_FULL), loaded through the product's own operations into a throw-away database.
Two query sets:

- weak labels: an operation's summary is the query (a description looking for partners abroad);
  relevant = the other operations that share its 2014-2020 category-of-intervention code, in
  another language and another country. Weak: a shared code means a related field, not a good
  partner, and many good partners have other codes. Useful to compare systems, not as absolutes.
  Only German, Greek and English operations carry a code (all Greek, most German, about a tenth
  of the English ones); the others, among them every Danish, Croatian, Dutch, Slovak, Slovenian
  and Swedish operation, can never be judged relevant: they are unjudged, not irrelevant. So
  P@10, nDCG@10 and MRR of these queries are computed on condensed rankings (Sakai 2007): each
  system's ranking with every operation without a code removed.
- hand-judged: partner requests written in French, Spanish, Italian, Polish and Portuguese
  (languages absent from the corpus) with operations judged relevant by reading them, pooled from
  keyword searches and from the top 5 per language of BM25, the uncorrected embeddings and the
  matcher (bench/data/partner_requests.json).

Systems, each ranking every operation outside the query's country: random; BM25 (bm25s) on the
summaries; the embeddings without the language-bias correction; the full matcher.

Reported per system and query kind: P@10, nDCG@10 (binary gains) and MRR, overall and per (query
language -> document language) pair (the ranking restricted to documents in that language); the
share of the top 10 in the query's own language, always on the full ranking (the bias of what a user
sees, judged or not); a paired bootstrap 95 % interval (2,000 resamples of the queries, fixed seed)
of the matcher's nDCG@10 minus each baseline's, overall and per pair; and, per pair, the p-value of a
paired randomization test of that difference (exact below 14 queries), Holm-adjusted over the pairs
with at least MIN_TESTED_QUERIES queries. With 4-16 queries a pair, the percentile bootstrap is too
narrow (it resamples the few values it has); the randomization test is the one IR uses for
small samples (Smucker, Allan and Carterette 2007), and 45 pairs tested at once need the adjustment.

Run: .venv/bin/python -m bench.eval_quality [--per-language 350] [--queries-per-language 25] [--json FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import tempfile
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np
from flask import Flask
from scipy import stats

from matcher import create_app
from matcher.config import REPO_ROOT
from matcher.matching import Profile, match
from matcher.partners import migrations
from matcher.partners.operations import build, create_many
from matcher.partners.validation import validate_organisation
from matcher.partners.vocabulary import EU_COUNTRIES, Source, Status

ESIF = REPO_ROOT.parent / "shared" / "data" / "esif" / "operations.csv"
REQUESTS = Path(__file__).resolve().parent / "data" / "partner_requests.json"
SYSTEMS = ("random", "bm25", "embeddings", "matcher")
K = 10
# Languages whose every coded operation joins the corpus: few of them carry a code (English: 44 that can
# be imported, Greek: 327), and a sample of 300 left the pairs towards English a pool of about ten.
CODED_IN_FULL = ("el", "en")
RESAMPLES = 2000
# Randomization test: every sign assignment up to 13 queries (8,192), else this many random ones.
PERMUTATIONS = 9999
SIGNIFICANCE = 0.05
# A pair's bootstrap interval says something from this many queries on (one query: zero width).
MIN_TESTED_QUERIES = 5


@dataclass(frozen=True)
class Operation:
    id: str
    country: str
    language: str
    code: str
    name: str
    summary: str


@dataclass
class Query:
    id: str
    text: str
    language: str
    country: str
    relevant: set[str]
    kind: str
    judged: set[str] | None = None
    """The operations that could have been judged (rankings are condensed to them); None: all."""


@dataclass
class Scores:
    """Per-query metric lists, overall and per (query language, document language) pair."""

    overall: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    pairs: dict[tuple[str, str], dict[str, list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )


def read_operations(path: Path = ESIF) -> list[Operation]:
    """Operations the product would accept (EU member state, valid lengths), one per distinct summary."""
    seen: set[str] = set()
    operations = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["country"] not in EU_COUNTRIES or row["summary"] in seen:
                continue
            if len(row["summary"]) > 5000 or len(row["beneficiary"]) > 200:
                continue
            seen.add(row["summary"])
            operations.append(
                Operation(
                    row["id"],
                    row["country"],
                    row["language"],
                    row["intervention_code"],
                    row["beneficiary"],
                    row["summary"],
                )
            )
    return operations


def sample_corpus(operations: list[Operation], per_language: int, seed: int, include: Iterable[str]) -> list[Operation]:
    """At most `per_language` operations per language (seeded), plus every operation in `include`."""
    rng = random.Random(seed)
    by_language: dict[str, list[Operation]] = defaultdict(list)
    for operation in operations:
        by_language[operation.language].append(operation)
    chosen = {o.id for group in by_language.values() for o in rng.sample(group, min(per_language, len(group)))}
    chosen |= set(include)
    return [o for o in operations if o.id in chosen]


def weak_queries(corpus: list[Operation], per_language: int, seed: int) -> list[Query]:
    """Operations whose code is shared by operations in other languages and countries."""
    rng = random.Random(seed)
    by_code: dict[str, list[Operation]] = defaultdict(list)
    for operation in corpus:
        if operation.code:
            by_code[operation.code].append(operation)
    judged = {o.id for o in corpus if o.code}
    candidates: dict[str, list[Query]] = defaultdict(list)
    for operation in corpus:
        relevant = {
            o.id
            for o in by_code.get(operation.code, ())
            if o.language != operation.language and o.country != operation.country
        }
        if relevant:
            candidates[operation.language].append(
                Query(operation.id, operation.summary, operation.language, operation.country, relevant, "weak", judged)
            )
    return [
        q
        for language in sorted(candidates)
        for q in rng.sample(candidates[language], min(per_language, len(candidates[language])))
    ]


def hand_queries(corpus_ids: set[str], path: Path = REQUESTS) -> list[Query]:
    requests = json.loads(path.read_text("utf-8"))["requests"]
    return [
        Query(r["id"], r["text"], r["language"], r["country"], set(r["relevant"]) & corpus_ids, "hand")
        for r in requests
        if set(r["relevant"]) & corpus_ids
    ]


def load_corpus(app: Flask, corpus: list[Operation]) -> dict[int, str]:
    """Store the operations as published organisations; return organisation id -> operation id."""
    with app.app_context():
        migrations.upgrade()
        organisations = []
        for operation in corpus:
            result = validate_organisation(
                {
                    "name": operation.name,
                    "country": operation.country,
                    "description": operation.summary,
                    "description_language": operation.language,
                    "source_reference": operation.id,
                }
            )
            organisations.append(build(result.values, Source.IMPORT, Status.PUBLISHED))
        create_many(organisations)
        return {o.id: o.source_reference for o in organisations}


def _app(database: str, folder: Path, centering_strength: float | None) -> Flask:
    """An app on the evaluation database; None keeps the configured language-correction strength."""
    strength = {} if centering_strength is None else {"MATCHER_CENTERING_STRENGTH": centering_strength}
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database,
            "MATCHER_INDEX_PATH": str(folder / f"index-{centering_strength}.npz"),
            **strength,
        }
    )


def _matcher_system(app: Flask, operation_of: dict[int, str]) -> Callable[[Query], list[str]]:
    def rank(query: Query) -> list[str]:
        with app.app_context():
            results = match(Profile(query.text, query.country, language=query.language), k=len(operation_of))
            return [operation_of[r.organisation.id] for r in results]

    return rank


def _bm25_system(corpus: list[Operation]) -> Callable[[Query], list[str]]:
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([o.summary for o in corpus], show_progress=False), show_progress=False)

    def rank(query: Query) -> list[str]:
        scores = retriever.get_scores(bm25s.tokenize(query.text, show_progress=False, return_ids=False)[0])
        # Most documents in another language share no word with the query and tie at 0. Ties are broken
        # in a random order (seeded by the query): the file's order groups operations of one programme,
        # which often share a code, and gave BM25 credit for it (de->en nDCG@10 0.353, random 0.218).
        tie_break = np.random.default_rng(zlib.crc32(query.id.encode())).permutation(len(scores))
        order = np.lexsort((tie_break, -scores))
        return [corpus[i].id for i in order if corpus[i].country != query.country]

    return rank


def _random_system(corpus: list[Operation]) -> Callable[[Query], list[str]]:
    def rank(query: Query) -> list[str]:
        ids = [o.id for o in corpus if o.country != query.country]
        random.Random(query.id).shuffle(ids)
        return ids

    return rank


def metrics(ranking: list[str], relevant: set[str], k: int = K) -> dict[str, float]:
    """P@k, nDCG@k (binary gains) and MRR of one ranking."""
    top = ranking[:k]
    gains = [1.0 if doc in relevant else 0.0 for doc in top]
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    first = next((i for i, doc in enumerate(ranking) if doc in relevant), None)
    return {
        "p@10": sum(gains) / k,
        "ndcg@10": sum(g / math.log2(i + 2) for i, g in enumerate(gains)) / ideal if ideal else 0.0,
        "mrr": 1 / (first + 1) if first is not None else 0.0,
    }


def evaluate(
    corpus: list[Operation], queries: list[Query], work: Path, database: str | None = None
) -> dict[str, dict[str, Scores]]:
    """Run every system on every query; scores per system, per query kind. The corpus is loaded into
    ``database`` (an empty one), by default a new SQLite file in ``work``."""
    database = database or f"sqlite:///{work / 'eval.sqlite3'}"
    matcher_app = _app(database, work, centering_strength=None)
    operation_of = load_corpus(matcher_app, corpus)
    language = {o.id: o.language for o in corpus}
    systems = {
        "random": _random_system(corpus),
        "bm25": _bm25_system(corpus),
        "embeddings": _matcher_system(_app(database, work, centering_strength=0.0), operation_of),
        "matcher": _matcher_system(matcher_app, operation_of),
    }
    results: dict[str, dict[str, Scores]] = {name: defaultdict(Scores) for name in systems}
    for query in queries:
        for name, rank in systems.items():
            ranking = [doc for doc in rank(query) if doc != query.id]
            scores = results[name][query.kind]
            scores.overall["own_language"].append(sum(language[d] == query.language for d in ranking[:K]) / K)
            if query.judged is not None:
                ranking = [doc for doc in ranking if doc in query.judged]
            for metric, value in metrics(ranking, query.relevant).items():
                scores.overall[metric].append(value)
            for doc_language in sorted({language[d] for d in query.relevant}):
                sub_ranking = [d for d in ranking if language[d] == doc_language]
                sub_relevant = {d for d in query.relevant if language[d] == doc_language}
                for metric, value in metrics(sub_ranking, sub_relevant).items():
                    scores.pairs[(query.language, doc_language)][metric].append(value)
    return results


def matcher_lead(matcher: list[float], baseline: list[float], seed: int = 7) -> dict[str, float]:
    """Mean per-query difference matcher minus baseline, with a paired bootstrap 95 % interval and the
    two-sided p-value of a paired randomization test (the sign of each query's difference flipped)."""
    differences = np.asarray(matcher) - np.asarray(baseline)
    means = np.random.default_rng(seed).choice(differences, (RESAMPLES, len(differences))).mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    test = stats.permutation_test(
        (np.asarray(matcher), np.asarray(baseline)),
        lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=PERMUTATIONS,
        rng=np.random.default_rng(seed),
    )
    return {"mean": float(differences.mean()), "low": float(low), "high": float(high), "p": float(test.pvalue)}


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment: each p-value made valid for the whole family of tests, in input order."""
    order = np.argsort(p_values, kind="stable")
    adjusted = np.empty(len(p_values))
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted.tolist()


def summarise(results: dict[str, dict[str, Scores]]) -> dict[str, object]:
    """Means per system and query kind, overall and per language pair; the matcher's nDCG@10 lead over each baseline."""
    summary: dict[str, object] = {}
    for name, by_kind in results.items():
        for kind, scores in by_kind.items():
            entry = {metric: float(np.mean(values)) for metric, values in scores.overall.items()}
            entry["queries"] = len(scores.overall["mrr"])
            if name != "matcher":
                matcher_ndcg = results["matcher"][kind].overall["ndcg@10"]
                entry["matcher_lead"] = matcher_lead(matcher_ndcg, scores.overall["ndcg@10"])
            entry["pairs"] = {
                f"{q}->{d}": {**{m: float(np.mean(v)) for m, v in pair.items()}, "queries": len(pair["mrr"])}
                for (q, d), pair in sorted(scores.pairs.items())
            }
            if name != "matcher":
                for (q, d), pair in scores.pairs.items():
                    matcher_pair = results["matcher"][kind].pairs[(q, d)]["ndcg@10"]
                    entry["pairs"][f"{q}->{d}"]["matcher_lead"] = matcher_lead(matcher_pair, pair["ndcg@10"])
            summary.setdefault(kind, {})[name] = entry
    return summary


def _lead(entry: dict) -> str:
    lead = entry.get("matcher_lead")
    return f"{lead['mean']:+.3f} [{lead['low']:+.3f}, {lead['high']:+.3f}]" if lead else "-"


def _best_baseline(systems: dict[str, dict], pair: str) -> dict:
    """The pair's entry of the baseline with the highest nDCG@10 there."""
    baselines = [systems[name]["pairs"][pair] for name in systems if name != "matcher"]
    return max(baselines, key=lambda entry: entry["ndcg@10"])


def _holm_adjusted(systems: dict[str, dict]) -> dict[str, float]:
    """Per pair with at least MIN_TESTED_QUERIES queries: the randomization test's p-value against the
    pair's best baseline, Holm-adjusted over those pairs."""
    pairs = next(iter(systems.values()))["pairs"]
    tested = [pair for pair, values in pairs.items() if values["queries"] >= MIN_TESTED_QUERIES]
    p_values = [_best_baseline(systems, pair)["matcher_lead"]["p"] for pair in tested]
    return dict(zip(tested, holm(p_values), strict=True))


def _p_cell(lead: dict, adjusted: float | None) -> str:
    return f"{lead['p']:.3f} ({'-' if adjusted is None else f'{adjusted:.3f}'})"


def _verdict(systems: dict[str, dict]) -> str:
    """How many pairs the matcher leads, and how many of the others differ beyond the noise: by the
    bootstrap interval, and by the randomization test adjusted for the number of pairs."""
    pairs = next(iter(systems.values()))["pairs"]
    leads = {pair: _best_baseline(systems, pair)["matcher_lead"] for pair in pairs}
    adjusted = _holm_adjusted(systems)
    tested = [leads[pair] for pair in adjusted]
    significant = [leads[pair]["mean"] for pair, p in adjusted.items() if p < SIGNIFICANCE]
    return (
        f"Matcher ahead of the best baseline in {sum(lead['mean'] > 0 for lead in leads.values())} of {len(leads)} "
        f"pairs. Of the {len(tested)} pairs with at least {MIN_TESTED_QUERIES} queries, the interval lies above 0 "
        f"in {sum(lead['low'] > 0 for lead in tested)} and below 0 in {sum(lead['high'] < 0 for lead in tested)}; "
        f"by the randomization test, Holm-adjusted over those {len(tested)} pairs, the matcher is ahead at the "
        f"{SIGNIFICANCE * 100:.0f} % level in {sum(mean > 0 for mean in significant)} and behind in "
        f"{sum(mean < 0 for mean in significant)}."
    )


def _best(values: list[float]) -> list[str]:
    """Values to three decimals, the best (and any tie) in bold unless it is zero."""
    cells = [f"{v:.3f}" for v in values]
    best = max(cells, key=float)
    return [f"**{c}**" if c == best and float(c) > 0 else c for c in cells]


def markdown(summary: dict[str, dict[str, dict]]) -> str:
    """Tables for docs/quality.md."""
    lines = []
    for kind, systems in summary.items():
        first = next(iter(systems.values()))
        lines += [
            f"### {kind} queries ({first['queries']})",
            "",
            "| system | P@10 | nDCG@10 | MRR | results in the query's language (top 10) "
            "| matcher minus system, nDCG@10 [95 % bootstrap interval] |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {name} | {s['p@10']:.3f} | {s['ndcg@10']:.3f} | {s['mrr']:.3f} | {s['own_language']:.1%} | {_lead(s)} |"
            for name, s in systems.items()
        ]
        lines += [
            "",
            f"nDCG@10 per query language -> document language ({kind}; best in bold; last column: the matcher "
            "minus the best baseline of that pair, with its 95 % bootstrap interval, and the randomization "
            f"test's p-value (Holm-adjusted over the pairs with at least {MIN_TESTED_QUERIES} queries)):",
            "",
            "| pair | queries | " + " | ".join(systems) + " | matcher minus best baseline | p (adjusted) |",
            "|---|---|" + "---|" * (len(systems) + 2),
        ]
        adjusted = _holm_adjusted(systems)
        for pair, values in first["pairs"].items():
            cells = " | ".join(_best([systems[name]["pairs"][pair]["ndcg@10"] for name in systems]))
            best = _best_baseline(systems, pair)
            lines.append(
                f"| {pair} | {values['queries']} | {cells} | {_lead(best)} | "
                f"{_p_cell(best['matcher_lead'], adjusted.get(pair))} |"
            )
        lines += ["", _verdict(systems), ""]
    return "\n".join(lines)


def corpus_and_queries(
    per_language: int, queries_per_language: int, seed: int = 7, esif: Path = ESIF
) -> tuple[list[Operation], list[Query]]:
    """The evaluation corpus (sampled, plus every judged and every fully kept operation) and both query sets."""
    operations = read_operations(esif)
    requests = json.loads(REQUESTS.read_text("utf-8"))["requests"]
    judged_relevant = (i for r in requests for i in r["relevant"])
    coded_in_full = (o.id for o in operations if o.code and o.language in CODED_IN_FULL)
    corpus = sample_corpus(operations, per_language, seed, [*judged_relevant, *coded_in_full])
    return corpus, weak_queries(corpus, queries_per_language, seed) + hand_queries({o.id for o in corpus})


def run(
    per_language: int, queries_per_language: int, seed: int = 7, esif: Path = ESIF, database: str | None = None
) -> dict[str, object]:
    corpus, queries = corpus_and_queries(per_language, queries_per_language, seed, esif)
    with tempfile.TemporaryDirectory() as work:
        summary = summarise(evaluate(corpus, queries, Path(work), database))
    summary["corpus"] = {"operations": len(corpus), "languages": sorted({o.language for o in corpus})}
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", type=int, default=350)
    parser.add_argument("--queries-per-language", type=int, default=25)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the full summary here")
    args = parser.parse_args()
    summary = run(args.per_language, args.queries_per_language, args.seed)
    corpus = summary.pop("corpus")
    print(f"corpus: {corpus['operations']} operations in {', '.join(corpus['languages'])}\n")
    print(markdown(summary))
    if args.json:
        args.json.write_text(json.dumps({"corpus": corpus, **summary}, indent=2))


if __name__ == "__main__":
    main()
