"""The index is derived from the database: follows every change, survives restarts, can be rebuilt."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Set as AbstractSet
from pathlib import Path

import numpy as np
import pytest
from flask import Flask

from matcher.engine.id_set import IdSet
from matcher.engine.index import IndexBundle, VectorIndex, _training_sample
from matcher.engine.keywords import KeywordIndex
from matcher.extensions import db
from matcher.matching import Profile, match, search
from matcher.partners.indexing import index_service
from matcher.partners.models import Embedding, Organisation
from matcher.partners.operations import create_organisation, delete_organisation, set_status, update_organisation
from matcher.partners.vocabulary import Status
from tests.apps import another_process
from tests.partner_data import QUERY_FR, TARGETS

PROFILE = Profile(description=QUERY_FR["description"], country="FR")


def _names() -> set[str]:
    return {r.organisation.name for r in match(PROFILE, k=20)}


def test_changes_reach_the_index_at_once(app: Flask) -> None:
    with app.app_context():
        german = create_organisation(TARGETS[0], status=Status.PENDING)
        italian = create_organisation(TARGETS[1], status=Status.PUBLISHED)
        assert _names() == {italian.name}
        set_status(german, Status.PUBLISHED)
        assert _names() == {italian.name, german.name}
        set_status(italian, Status.ARCHIVED)
        assert _names() == {german.name}
        update_organisation(
            german, {"description": "Wir bauen Bienenhotels und pflegen Streuobstwiesen im Schwarzwald."}
        )
        assert search("abeilles et vergers", k=1)[0].organisation.name == german.name
        delete_organisation(german)
        assert _names() == set()
        assert db.session.get(Organisation, german.id) is None
        assert db.session.get(Embedding, german.id) is None
        assert index_service().check().ok


def test_an_organisation_that_moves_country_is_searched_in_its_new_one(app: Flask) -> None:
    """The vector index is split by country: a move must take the vectors to the new country's part."""
    with app.app_context():
        german = create_organisation(TARGETS[0], status=Status.PUBLISHED)
        assert _names() == {german.name}
        update_organisation(german, {"country": "FR"})
        assert _names() == set()  # now in the asker's own country
        assert index_service().bundle.field("description").partition_of(german.id) == "FR"
        report = index_service().check()
        assert report.ok and not report.wrong_partition
        field = index_service().bundle.field("description")
        field.upsert(np.array([german.id]), np.stack(list(field.vectors([german.id]).values())), ["DE"])
        index_service().save()  # a snapshot that files it under its old country
        assert index_service().check().wrong_partition == [german.id]
        index_service().rebuild()
        assert index_service().check().ok


def test_index_survives_restart_and_agrees_with_database(app: Flask) -> None:
    with app.app_context():
        for record in TARGETS:
            create_organisation(record, status=Status.PUBLISHED)
        before = [(r.organisation.id, r.explanation.score) for r in match(PROFILE)]
        index_service().save()
    restarted = another_process(app)
    with restarted.app_context():
        report = index_service().check()
        assert report.ok, report
        assert report.indexed["description"] == 3
        assert [(r.organisation.id, r.explanation.score) for r in match(PROFILE)] == before


def test_changes_made_by_another_process_are_replayed(app: Flask) -> None:
    with app.app_context():
        create_organisation(TARGETS[0], status=Status.PUBLISHED)
        assert len(_names()) == 1
    other = another_process(app)
    with other.app_context():
        create_organisation(TARGETS[1], status=Status.PUBLISHED)
    with app.app_context():
        assert len(_names()) == 2


def test_broken_snapshot_is_detected_and_rebuilt(app: Flask) -> None:
    with app.app_context():
        for record in TARGETS:
            create_organisation(record, status=Status.PUBLISHED)
        index_service().save()
        path = Path(app.config["MATCHER_INDEX_PATH"])
        path.write_bytes(path.read_bytes()[:1000])
    restarted = another_process(app)
    with restarted.app_context():
        assert not index_service().check().snapshot_usable
        assert len(_names()) == 3
        assert index_service().check().ok


def test_rebuild_uses_stored_vectors_without_the_model(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    with app.app_context():
        for record in TARGETS:
            create_organisation(record, status=Status.PUBLISHED)
        service = index_service()
        monkeypatch.setattr(service.embedder, "encode", lambda *a, **k: pytest.fail("rebuild re-embedded"))
        bundle = service.rebuild()
        assert bundle.meta()["counts"]["description"] == 3


def _unit_vectors(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("threshold", [10**9, 100])
def test_vector_index_exact_and_approximate(threshold: int, tmp_path: Path) -> None:
    vectors = _unit_vectors(2000)
    ids = np.arange(100, 2100)
    index = VectorIndex.build(8, ids, vectors, threshold)
    assert index.kind == ("flat" if threshold > 2000 else "ivf")
    assert index.search(vectors[7], 1)[0][0] == 107
    assert [i for i, _ in index.search(vectors[7], 5, allowed=[150, 151])] in ([150, 151], [151, 150])
    index.remove([107])
    assert 107 not in {i for i, _ in index.search(vectors[7], 5)}
    index.upsert(np.array([107]), vectors[8:9])
    assert index.search(vectors[8], 2)[0][0] in (107, 108)
    bundle = IndexBundle(dim=8, model_id="m", watermark=5, fields={"description": index})
    bundle.save(tmp_path / "i.npz")
    loaded = IndexBundle.load(tmp_path / "i.npz")
    assert loaded.meta() == bundle.meta()
    assert loaded.fields["description"].ids == index.ids
    assert not list(tmp_path.glob(".*tmp"))


def _exact_among(vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, allowed: set[int], k: int) -> list[int]:
    scores = vectors @ query
    order = [int(ids[j]) for j in np.argsort(-scores, kind="stable") if int(ids[j]) in allowed]
    return order[:k]


@pytest.mark.parametrize("share", [1.0, 0.5, 0.06, 0.01, 0.001])
def test_allow_list_gives_the_exact_best_among_the_allowed(share: float) -> None:
    """Wide allow-lists are applied after a deeper unrestricted search, narrow ones with a selector:
    both must give the best k among the allowed ids, whatever ids outside the index they hold."""
    vectors = _unit_vectors(3000, dim=16, seed=1)
    ids = np.arange(10, 3010)
    index = VectorIndex.build(16, ids, vectors, 10**9)
    rng = np.random.default_rng(2)
    allowed = {int(i) for i in rng.choice(ids, size=max(1, int(share * len(ids))), replace=False)} | {99_999}
    for query in _unit_vectors(5, dim=16, seed=3):
        found = [i for i, _ in index.search(query, 20, allowed)]
        assert found == _exact_among(vectors, ids, query, allowed, 20)
    assert index.search(vectors[0], 5, allowed=[]) == []
    assert [i for i, _ in index.search(vectors[0], 5, allowed=iter([10, 11]))] == [10, 11]
    assert [i for i, _ in index.search(vectors[0], 5, allowed={10, 11, 10**12})] == [10, 11]  # a hashed selector


def test_ivf_allow_list_probes_as_many_lists_as_an_unrestricted_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """A selector search on IVF once probed a single list (FAISS's default in SearchParametersIVF)."""
    from matcher.engine import index as module

    vectors = _unit_vectors(4000, dim=16, seed=4)
    ids = np.arange(4000)
    index = VectorIndex.build(16, ids, vectors, 100)
    assert index.kind == "ivf"
    everyone = set(range(4000))
    monkeypatch.setattr(module, "EXACT_ALLOW_LIMIT", 0)
    for query in _unit_vectors(5, dim=16, seed=5):
        unrestricted = index.search(query, 30)
        assert index.search(query, 30, everyone) == unrestricted  # applied after the search
        monkeypatch.setattr(module, "POST_FILTER_SHARE", 2.0)
        assert index.search(query, 30, everyone) == unrestricted  # with a selector
        monkeypatch.setattr(module, "POST_FILTER_SHARE", 0.05)


def test_narrow_allow_list_on_ivf_is_exact() -> None:
    vectors = _unit_vectors(4000, dim=16, seed=6)
    ids = np.arange(4000)
    index = VectorIndex.build(16, ids, vectors, 100)
    allowed = set(range(0, 4000, 97))
    for query in _unit_vectors(5, dim=16, seed=7):
        assert [i for i, _ in index.search(query, 10, allowed)] == _exact_among(vectors, ids, query, allowed, 10)


@pytest.mark.parametrize("threshold", [10**9, 100])
def test_stored_vectors_come_back(threshold: int) -> None:
    vectors = _unit_vectors(1000, dim=16, seed=8)
    index = VectorIndex.build(16, np.arange(5, 1005), vectors, threshold)
    stored = index.vectors([5, 500, 2000, 1004])
    assert sorted(stored) == [5, 500, 1004]
    # IVF keeps float16: about three significant digits; the exact index gives them back bit for bit.
    tolerance = 1e-3 if index.kind == "ivf" else 0
    for i, vector in stored.items():
        assert np.allclose(vector, vectors[i - 5], rtol=0, atol=tolerance)
    assert index.vectors([]) == {}


def test_ivf_k_means_learns_from_a_fixed_sample_of_a_large_collection() -> None:
    vectors = np.random.default_rng(3).normal(size=(5000, 8)).astype(np.float32)
    sample = _training_sample(vectors, 1000)
    assert sample.shape == (1000, 8) and sample.flags.c_contiguous
    assert np.array_equal(sample, _training_sample(vectors, 1000))  # a rebuild trains on the same vectors
    assert {row.tobytes() for row in sample} <= {row.tobytes() for row in vectors}
    assert _training_sample(vectors[:800], 1000).shape == (800, 8)


def _countries(n: int, names: str = "ABCDE", seed: int = 9) -> list[str]:
    return [names[i] for i in np.random.default_rng(seed).integers(0, len(names), size=n)]


@pytest.mark.parametrize("threshold", [10**9, 100])
def test_partitions_answer_like_one_index(threshold: int) -> None:
    """Split by country, searched partition by partition and merged: the same best k as one exact
    index, whatever the allow-list (whole partitions, a few ids of each, ids outside the index)."""
    vectors = _unit_vectors(3000, dim=16, seed=10)
    ids = np.arange(1, 3001)
    countries = _countries(3000)
    partitioned = VectorIndex.build(16, ids, vectors, threshold, countries)
    assert sorted(partitioned.partitions) == list("ABCDE")
    assert partitioned.kind == ("flat" if threshold > 3000 else "ivf")
    rng = np.random.default_rng(11)
    abroad = {int(i) for i, c in zip(ids, countries, strict=True) if c != "A"}
    allow_lists: list[AbstractSet[int] | None] = [
        None,
        abroad,
        IdSet(np.array(sorted(abroad))),
        {int(i) for i in rng.choice(ids, 300, replace=False)} | {10**12},
        IdSet(np.sort(rng.choice(ids, 30, replace=False))),
    ]
    for query in _unit_vectors(5, dim=16, seed=12):
        for allowed in allow_lists:
            found = partitioned.search(query, 20, allowed)
            among = set(ids.tolist()) if allowed is None else set(allowed)
            assert [score for _, score in found] == sorted((score for _, score in found), reverse=True)
            # IVF probes some lists of a partition searched whole; a narrow allow-list is searched exactly.
            if threshold > 3000 or len(among) < 1000:
                assert [i for i, _ in found] == _exact_among(vectors, ids, query, among, 20)
            else:
                assert len(found) == 20 and {i for i, _ in found} <= among


def test_a_country_left_out_costs_no_recall_among_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each country's vectors share an offset, as each language's do: the query's nearest vectors are
    all its own country's. With the query's country left out, the best among the others must still be
    found (one IVF over every country probes the lists nearest the query, its own: recall 0.39 here)."""
    from matcher.engine import index as module

    monkeypatch.setattr(module, "EXACT_ALLOW_LIMIT", 0)  # as at 1M: the probing itself is tested
    rng = np.random.default_rng(13)
    offsets = {name: rng.normal(size=16) * 1.5 for name in "ABCD"}
    topics = rng.normal(size=(40, 16))
    countries = _countries(8000, "ABCD", seed=14)
    raw = np.stack([offsets[c] + topics[rng.integers(40)] + rng.normal(size=16) * 0.3 for c in countries])
    vectors = (raw / np.linalg.norm(raw, axis=1, keepdims=True)).astype(np.float32)
    ids = np.arange(1, 8001)
    index = VectorIndex.build(16, ids, vectors, 100, countries)
    assert {p.kind for p in index.partitions.values()} == {"ivf"}
    abroad = IdSet(ids[np.array(countries) != "A"])
    hits = 0
    for n in range(50):
        query = offsets["A"] + topics[n % 40] + rng.normal(size=16) * 0.3
        query = (query / np.linalg.norm(query)).astype(np.float32)
        expected = _exact_among(vectors, ids, query, set(abroad), 10)
        hits += len({i for i, _ in index.search(query, 10, abroad)} & set(expected))
    assert hits / 500 >= 0.95


def test_an_organisation_that_moves_country_moves_partition(tmp_path: Path) -> None:
    vectors = _unit_vectors(200, dim=16, seed=15)
    index = VectorIndex.build(16, np.arange(200), vectors, 10**9, ["A"] * 100 + ["B"] * 100)
    index.upsert(np.array([5, 7]), vectors[[5, 7]], ["B", "C"])
    assert index.partition_of(5) == "B" and index.partition_of(7) == "C" and index.partition_of(999) is None
    assert len(index) == 200 and len(index.partitions["A"]) == 98
    without_a = set(range(100, 200)) | {5, 7}
    assert {5, 7} <= {i for i, _ in index.search(vectors[5], 200, without_a)}
    index.remove([7])
    assert index.partition_of(7) is None and len(index.partitions["C"]) == 0
    bundle = IndexBundle(dim=16, model_id="m", fields={"description": index, "offers": VectorIndex(16)})
    bundle.save(tmp_path / "i.npz")
    loaded = IndexBundle.load(tmp_path / "i.npz")
    assert loaded.meta() == bundle.meta() and loaded.fields["offers"].ids == set()
    assert {name: len(p) for name, p in loaded.fields["description"].partitions.items()} == {"A": 98, "B": 101, "C": 0}
    assert loaded.fields["description"].vectors([5]).keys() == {5}


def test_keyword_index_restarts_from_its_snapshot(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A restarted process loads the keyword index instead of tokenising every text again, then
    replays the changes made since; a snapshot it cannot trust is rebuilt."""
    with app.app_context():
        first, second = (create_organisation(record, status=Status.PUBLISHED) for record in TARGETS[:2])
        word = "Bienenhotelwerkstatt"
        update_organisation(first, {"offers": f"Wir bauen jede Woche ein {word}."})
        first_id, second_id = first.id, second.id
        assert set(search_scores(word)) == {first_id}
        snapshot = index_service().keywords_path
        assert snapshot.is_file()
    restarted = another_process(app)
    with restarted.app_context():
        service = index_service()
        read_texts = service._texts
        # Only the changed organisations' texts may be read (for the side index), never all of them.
        monkeypatch.setattr(service, "_texts", lambda ids=None: read_texts(ids) if ids is not None else pytest.fail())
        assert set(search_scores(word)) == {first_id}
        update_organisation(db.session.get(Organisation, second_id), {"offers": f"Auch wir bauen ein {word}."})
        assert set(search_scores(word)) == {first_id, second_id}
    (_snapshot_folder(snapshot) / "ids.npy").write_bytes(b"broken")
    with another_process(app).app_context():
        assert set(search_scores(word)) == {first_id, second_id}
    assert np.load(_snapshot_folder(snapshot) / "ids.npy").tolist() == sorted([first_id, second_id])


def _snapshot_folder(pointer: Path) -> Path:
    return pointer.with_name(json.loads(pointer.read_text())["folder"])


def search_scores(word: str) -> dict[int, float]:
    return index_service().keywords().scores(word)


def _save_keywords(pointer: Path) -> None:
    index = KeywordIndex({1: "Genossenschaft für Bienenhotels", 2: "coopérative de réparation de vélos"})
    for watermark in range(15):
        index.save(pointer, watermark)


def test_keyword_snapshots_written_by_several_processes_at_once_leave_a_whole_one(tmp_path: Path) -> None:
    """Workers starting together each build the keyword index and save it: one whole snapshot remains."""
    pointer = tmp_path / "index-keywords.json"
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_save_keywords, [pointer] * 4)
    loaded = KeywordIndex.load(pointer)
    assert loaded is not None and loaded[0].scores(["bienenhotels"], hidden=set()).keys() == {1}
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == [pointer.name]  # no staged pointer left
