"""The evaluation's statistics: what decides whether a per-pair difference is told apart from noise."""

from __future__ import annotations

import pytest

from bench.eval_quality import Scores, holm, markdown, matcher_lead, summarise


def test_randomization_test_is_exact_for_few_queries() -> None:
    # Six queries, all better: of the 64 sign assignments only the observed one and its mirror are as extreme.
    lead = matcher_lead([0.5, 0.6, 0.7, 0.8, 0.9, 1.0], [0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    assert lead["mean"] == pytest.approx(0.1)
    assert lead["p"] == pytest.approx(2 / 64)
    # The percentile bootstrap sees no spread at all in six equal differences.
    assert lead["low"] == pytest.approx(0.1) and lead["high"] == pytest.approx(0.1)


def test_randomization_test_of_mixed_differences_is_not_significant() -> None:
    lead = matcher_lead([0.6, 0.2, 0.7, 0.1, 0.5], [0.5, 0.4, 0.5, 0.3, 0.4])
    assert lead["p"] > 0.5


def test_holm_adjusts_in_input_order_and_stays_monotone() -> None:
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def _scores(per_pair: dict[tuple[str, str], list[float]]) -> Scores:
    scores = Scores()
    for pair, values in per_pair.items():
        for value in values:
            for metric in ("p@10", "ndcg@10", "mrr", "own_language"):
                scores.overall[metric].append(value)
                scores.pairs[pair][metric].append(value)
    return scores


def test_verdict_counts_pairs_ahead_and_behind_after_adjustment() -> None:
    ahead, tied = ("fr", "de"), ("it", "sl")
    results = {
        "random": {"hand": _scores({ahead: [0.0] * 12, tied: [0.1] * 6})},
        "embeddings": {"hand": _scores({ahead: [0.3] * 12, tied: [0.6, 0.5, 0.7, 0.6, 0.5, 0.6]})},
        "matcher": {
            "hand": _scores({ahead: [0.5, 0.6, 0.7] * 4, tied: [0.5, 0.6, 0.6, 0.5, 0.6, 0.5]}),
        },
    }
    text = markdown(summarise(results))
    assert "Matcher ahead of the best baseline in 1 of 2 pairs." in text
    # fr->de: 12 queries all better (p = 2/4096, adjusted 2/2048); it->sl: behind, not beyond the noise.
    assert "ahead at the 5 % level in 1 and behind in 0." in text
    assert "| it->sl | 6 |" in text
