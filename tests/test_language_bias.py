"""The language-bias correction measurably helps on a mixed-language pool it was not fitted on."""

from __future__ import annotations

from flask import Flask

from bench.eval_language_bias import evaluate, load_items
from matcher.partners.indexing import index_service


def test_centering_improves_cross_lingual_top1_and_reduces_own_language_answers(app: Flask) -> None:
    with app.app_context():
        service = index_service()
        result = evaluate(service.embedder, service.centering, load_items())
    raw, corrected = result["raw"], result["corrected"]
    assert corrected["top1"] > raw["top1"]
    assert corrected["own_language_share"] < raw["own_language_share"]
    assert corrected["top1"] >= 0.85, result
