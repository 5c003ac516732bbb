"""Hybrid search on a fixed slice of the real ESIF operations: cross-lingual ranking, facets, names,
the keyword index following the database, pages, and the /search page.

The slice (about 130 operations, chosen by category-of-intervention code and language, in file order)
is stored once per module on its own database, with a few hand-written organisations.
"""

from __future__ import annotations

import csv
import html
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from matcher.extensions import db
from matcher.matching import search, search_page
from matcher.matching.ranking import Filters
from matcher.partners.indexing import index_service
from matcher.partners.models import Organisation
from matcher.partners.operations import (
    build,
    create_many,
    create_organisation,
    delete_organisation,
    set_status,
    update_organisation,
    validated,
)
from matcher.partners.vocabulary import EU_COUNTRIES, LEGAL_FORMS, PARTNERSHIP_TYPES, Source, Status
from tests.apps import another_process, fresh_database, make_app

EVERYTHING = 10_000

# The topic of the cross-lingual test: protection against natural disasters. In the slice, the German
# operations of code 087 build flood defences; the Greek ones of codes 087/088 equip fire brigades
# (and protect a coast).
TOPIC_QUERY_ES = (
    "Protección civil frente a catástrofes naturales: obras de defensa contra las inundaciones de los ríos "
    "y vehículos de bomberos para apagar incendios forestales."
)
# Operations on clearly different topics: SME consulting and export, worker adaptation, early school
# leaving, vocational training (German); counselling centres and shelters for women, vocational training,
# programme management, evaluation studies (Greek).
OFF_TOPIC_CODES = {"de": ("066", "106", "115", "118"), "el": ("111", "118", "121", "122")}
PER_OFF_TOPIC_CODE = 8
ON_TOPIC_DE = 10
OTHER_LANGUAGES = ("en", "nl", "hr", "da", "sv", "sk", "sl")
PER_OTHER_LANGUAGE = 5

SIZES = ("", "micro", "small", "medium", "large")
THEME_OF_CODE = {
    "087": "environment",
    "088": "environment",
    "066": "local_development",
    "106": "work_integration",
    "111": "gender_equality",
    "115": "education_training",
    "118": "education_training",
}


@dataclass(frozen=True)
class Operation:
    id: str
    country: str
    language: str
    code: str
    name: str
    summary: str
    label: str  # "on", "off" or "" (not judged)


def read_slice(path: Path) -> list[Operation]:
    """The fixed slice: on-topic and off-topic German and Greek operations, a few in other languages."""
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            summary = row["summary"].strip()
            if row["country"] not in EU_COUNTRIES or summary in seen or not 30 <= len(summary) <= 5000:
                continue
            if not 2 <= len(row["beneficiary"].strip()) <= 200:
                continue
            seen.add(summary)
            rows.append(row)

    def operation(row: dict[str, str], label: str) -> Operation:
        return Operation(
            row["id"],
            row["country"],
            row["language"],
            row["intervention_code"],
            row["beneficiary"].strip(),
            row["summary"].strip(),
            label,
        )

    chosen = [
        operation(r, "on")
        for r in rows
        if r["language"] == "de" and r["intervention_code"] == "087" and "hochwasser" in r["summary"].lower()
    ][:ON_TOPIC_DE]
    chosen += [operation(r, "on") for r in rows if r["language"] == "el" and r["intervention_code"] in ("087", "088")]
    for language, codes in OFF_TOPIC_CODES.items():
        for code in codes:
            matching = [r for r in rows if r["language"] == language and r["intervention_code"] == code]
            chosen += [operation(r, "off") for r in matching[:PER_OFF_TOPIC_CODE]]
    for language in OTHER_LANGUAGES:
        in_language = [r for r in rows if r["language"] == language]
        step = max(1, len(in_language) // PER_OTHER_LANGUAGE)
        chosen += [operation(r, "") for r in in_language[::step][:PER_OTHER_LANGUAGE]]
    return chosen


def attributes(position: int, operation: Operation) -> dict[str, object]:
    """Deterministic legal form, size, themes, languages and partnership types, for the facets."""
    forms = tuple(LEGAL_FORMS)
    kinds = tuple(PARTNERSHIP_TYPES)
    themes = [THEME_OF_CODE[operation.code]] if operation.code in THEME_OF_CODE else []
    if position % 3 == 0:
        themes.append("solidarity_finance")
    return {
        "legal_form": forms[position % len(forms)],
        "size": SIZES[position % len(SIZES)],
        "themes": themes,
        "languages": [operation.language] + (["en"] if position % 2 and operation.language != "en" else []),
        "partnership_types": [kinds[position % len(kinds)]]
        + ([kinds[(position + 2) % len(kinds)]] * (position % 4 == 0)),
    }


def org(name: str, country: str, description: str, **extra: object) -> dict[str, object]:
    return {"name": name, "country": country, "description": description, **extra}


# A distinctive name; a name made of words that many flood-defence operations hold (its own text is
# about bread); a Greek name whose words the Greek shelters share; two texts for the quoted phrase.
NAMED = {
    "distinctive": org(
        "Genossenschaft Lichtblick Ostwestfalen",
        "DE",
        "Genossenschaftliche Dorfbäckerei: wir backen Brot aus regionalem Getreide und beschäftigen Menschen mit "
        "Behinderung in der Backstube und im Hofladen.",
        legal_form="cooperative",
        themes=["food_agriculture", "disability"],
    ),
    "common_words": org(
        "Hochwasserschutz Planung",
        "AT",
        "Eine Bäckerei in Graz, die Sauerteigbrot backt und an Schulen liefert; ausgebildet werden junge "
        "Menschen ohne Schulabschluss.",
        legal_form="social_enterprise",
        themes=["food_agriculture", "youth"],
    ),
    "greek": org(
        "Κοινωνική Συνεταιριστική Επιχείρηση Ξενώνας Φιλοξενίας",
        "GR",
        "Κοινωνική συνεταιριστική επιχείρηση που παράγει βιολογικό ελαιόλαδο στην Κρήτη και απασχολεί "
        "άτομα από ευάλωτες ομάδες στη συγκομιδή της ελιάς.",
        legal_form="cooperative",
        themes=["food_agriculture", "work_integration"],
        languages=["el", "en"],
    ),
    "phrase": org(
        "Lernwerkstatt Nordlicht",
        "DE",
        "Wir bieten Sprachkurse und Rechenkurse an. Unsere Schule für Erwachsene in der Stadt ist abends geöffnet.",
        legal_form="association",
        themes=["education_training"],
    ),
    "phrase_decoy": org(
        "Abendakademie Südwind",
        "DE",
        "Erwachsene lernen bei uns in der Stadt: eine Stadt-Schule, die Erwachsene in der Schule begleitet, "
        "damit Erwachsene der Stadt für die Schule und die Schule für die Stadt lernen.",
        legal_form="association",
        themes=["education_training"],
    ),
}


@dataclass
class Corpus:
    organisation_of: dict[str, int]  # operation id -> organisation id
    operations: list[Operation]
    named: dict[str, int] = field(default_factory=dict)

    def ids(self, language: str, label: str) -> set[int]:
        return {self.organisation_of[o.id] for o in self.operations if o.language == language and o.label == label}


@pytest.fixture(scope="module")
def search_app(tmp_path_factory: pytest.TempPathFactory, model_path: Path, centering_path: Path) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("search")
    yield from make_app(fresh_database(folder), folder, model_path, centering_path)


@pytest.fixture(scope="module")
def corpus(search_app: Flask, esif_path: Path) -> Corpus:
    operations = read_slice(esif_path)
    with search_app.app_context():
        organisations = []
        for position, operation in enumerate(operations):
            values = validated(
                {
                    "name": operation.name,
                    "country": operation.country,
                    "description": operation.summary,
                    "description_language": operation.language,
                    "source_reference": operation.id,
                    **attributes(position, operation),
                }
            )
            organisations.append(build(values, Source.IMPORT, Status.PUBLISHED))
        for record in NAMED.values():
            organisations.append(build(validated(record), Source.STAFF, Status.PUBLISHED))
        create_many(organisations)
        stored = len(operations)
        return Corpus(
            organisation_of={o.source_reference: o.id for o in organisations[:stored]},
            operations=operations,
            named={key: o.id for key, o in zip(NAMED, organisations[stored:], strict=True)},
        )


@pytest.fixture()
def context(search_app: Flask, corpus: Corpus) -> Iterator[Corpus]:
    """The module's app context, with its corpus."""
    with search_app.app_context():
        yield corpus


def ranked_ids(text: str, filters: Filters = Filters()) -> list[int]:
    return [r.organisation.id for r in search(text, k=EVERYTHING, filters=filters)]


def ranks(ranking: list[int], ids: set[int]) -> list[int]:
    """Positions of the ids in the ranking, best first; one absent from the result set counts as last."""
    position = {organisation_id: rank for rank, organisation_id in enumerate(ranking)}
    return sorted(position.get(i, len(ranking)) for i in ids)


# Facet (a Filters field) -> the organisation attribute it counts, and the /search parameter.
FACET_ATTRIBUTES = {
    "countries": ("country", "country"),
    "legal_forms": ("legal_form", "legal_form"),
    "themes": ("themes", "theme"),
    "languages": ("languages", "language"),
    "description_languages": ("description_language", "written_in"),
    "partnership_types": ("partnership_types", "partnership_type"),
    "sizes": ("size", "size"),
}


def counted(text: str, filters: Filters, attribute: str) -> dict[str, int]:
    """How many organisations of the full result set hold each value of the attribute."""
    counts: Counter[str] = Counter()
    for result in search(text, k=EVERYTHING, filters=filters):
        value = getattr(result.organisation, attribute)
        counts.update(code for code in (value if isinstance(value, list) else [value]) if code)
    return dict(counts)


# 1. Cross-lingual ranking -------------------------------------------------------------------------


def test_slice_is_as_designed(corpus: Corpus) -> None:
    labels = Counter((o.language, o.label) for o in corpus.operations)
    assert labels[("de", "on")] == ON_TOPIC_DE and labels[("el", "on")] >= 6
    assert labels[("de", "off")] >= 24 and labels[("el", "off")] >= 24
    assert len({o.language for o in corpus.operations}) >= 8
    assert len(corpus.operations) + len(NAMED) <= 150


def test_spanish_query_finds_german_and_greek_operations_on_the_topic(context: Corpus) -> None:
    ranking = ranked_ids(TOPIC_QUERY_ES)
    top10 = set(ranking[:10])
    for language in ("de", "el"):
        on, off = context.ids(language, "on"), context.ids(language, "off")
        on_ranks, off_ranks = ranks(ranking, on), ranks(ranking, off)
        # The best on-topic operation of the language beats every off-topic one in that language,
        assert on_ranks[0] < off_ranks[0], (language, on_ranks, off_ranks)
        # the on-topic ones are ahead on the whole (median against median),
        assert on_ranks[len(on_ranks) // 2] < off_ranks[len(off_ranks) // 2], (language, on_ranks, off_ranks)
        # and the top 10 holds on-topic operations of the language and no off-topic one.
        assert top10 & on, (language, on_ranks)
        assert not top10 & off, (language, off_ranks)


def test_spanish_query_restricted_to_greece_starts_with_greek_operations_on_the_topic(context: Corpus) -> None:
    ranking = ranked_ids(TOPIC_QUERY_ES, Filters(countries=("GR",)))
    on = context.ids("el", "on")
    assert set(ranking[:3]) <= on, ranks(ranking, on)


# 2. Facets -----------------------------------------------------------------------------------------

FACET_QUERY = "Berufsausbildung und Weiterbildung für junge Menschen"


def facet_map(values: list) -> dict[str, int]:
    return {value.code: value.count for value in values}


def test_facets_count_the_whole_result_set(context: Corpus) -> None:
    found = search_page(FACET_QUERY, per_page=5)
    assert found.total == len(ranked_ids(FACET_QUERY)) > 5 * 2
    for facet, (attribute, _param) in FACET_ATTRIBUTES.items():
        values = found.facets[facet]
        assert facet_map(values) == counted(FACET_QUERY, Filters(), attribute), facet
        assert not any(value.selected for value in values)
        assert [value.count for value in values] == sorted((value.count for value in values), reverse=True)
    assert len(found.facets["countries"]) >= 8 and len(found.facets["themes"]) >= 4


def test_a_selected_country_leaves_the_other_countries_counted(context: Corpus) -> None:
    filters = Filters(countries=("DE", "FR"))
    found = search_page(FACET_QUERY, filters)
    within = search(FACET_QUERY, k=EVERYTHING, filters=filters)
    assert found.total == len(within) and {r.organisation.country for r in within} == {"DE"}
    countries = found.facets["countries"]
    # Disjunctive: the countries facet counts as if no country were chosen ...
    assert facet_map(countries) == {**counted(FACET_QUERY, Filters(), "country"), "FR": 0}
    assert {"GR", "AT", "HR"} <= {value.code for value in countries if value.count}
    # ... chosen codes are marked (FR, which has no organisation, with a count of 0) ...
    assert {value.code for value in countries if value.selected} == {"DE", "FR"}
    # ... and every other facet counts within the selection only.
    for facet, (attribute, _param) in FACET_ATTRIBUTES.items():
        if facet != "countries":
            assert facet_map(found.facets[facet]) == counted(FACET_QUERY, filters, attribute), facet
            assert not any(value.selected for value in found.facets[facet]), facet


def test_each_facet_ignores_only_its_own_selection(context: Corpus) -> None:
    filters = Filters(countries=("DE", "AT"), themes=("education_training",), sizes=("small", "medium"))
    found = search_page(FACET_QUERY, filters)
    assert found.total == len(ranked_ids(FACET_QUERY, filters)) > 0
    for facet, (attribute, _param) in FACET_ATTRIBUTES.items():
        among = replace(filters, **{facet: ()})
        assert facet_map(found.facets[facet]) == counted(FACET_QUERY, among, attribute), facet
        assert {value.code for value in found.facets[facet] if value.selected} == set(getattr(filters, facet))
    # The selections really restrict: the themes facet (within countries and sizes) differs from the
    # unfiltered one, and so does the countries facet (within theme and sizes).
    unfiltered = search_page(FACET_QUERY)
    assert facet_map(found.facets["themes"]) != facet_map(unfiltered.facets["themes"])
    assert facet_map(found.facets["countries"]) != facet_map(unfiltered.facets["countries"])


# 3. Names and quoted phrases -------------------------------------------------------------------------


def first_id(text: str, filters: Filters = Filters()) -> int:
    return search(text, k=1, filters=filters)[0].organisation.id


def test_a_name_query_ranks_the_named_organisation_first(context: Corpus) -> None:
    named = context.named
    assert first_id("Genossenschaft Lichtblick Ostwestfalen") == named["distinctive"]
    assert first_id("genossenschaft LICHTBLICK ostwestfalen") == named["distinctive"]
    # A name made of words that the flood-defence operations hold (its own text is about bread) ...
    ranking = ranked_ids("Hochwasserschutz Planung")
    assert ranking[0] == named["common_words"]
    # ... comes before them, though they hold the words in their texts too.
    assert ranks(ranking, context.ids("de", "on"))[0] == 1


def test_a_greek_name_query_ranks_the_named_organisation_first(context: Corpus) -> None:
    greek = context.named["greek"]
    name = NAMED["greek"]["name"]
    assert first_id(name) == greek
    assert first_id("κοινωνικη συνεταιριστικη επιχειρηση ξενωνας φιλοξενιας") == greek  # no accents, lower case
    assert first_id(name, Filters(countries=("GR",))) == greek
    assert search_page(name, Filters(languages=("el",))).results[0].organisation.id == greek
    # The Greek shelters (whose texts hold "Φιλοξενίας") follow it.
    assert ranks(ranked_ids(name), context.ids("el", "off"))[0] <= 3


def test_a_quoted_phrase_ranks_the_text_holding_it_first(context: Corpus) -> None:
    phrase, decoy = context.named["phrase"], context.named["phrase_decoy"]
    plain = ranked_ids("Schule für Erwachsene in der Stadt")
    assert plain.index(decoy) < plain.index(phrase)  # without quotes, the text repeating the words wins
    assert first_id('"Schule für Erwachsene in der Stadt"') == phrase
    assert first_id('Abendkurse "schule fur erwachsene in der stadt"') == phrase


def test_a_quoted_phrase_of_a_greek_description_in_a_spanish_query(context: Corpus) -> None:
    quoted = "Πυροσβεστικών Υπηρεσιών της Περιφέρειας Νοτίου Αιγαίου"
    holding = [o for o in context.operations if quoted in o.summary]
    assert len(holding) == 1
    similar = [o for o in context.operations if "Πυροσβεστικών Υπηρεσιών της Περιφέρειας" in o.summary]
    assert len(similar) > 1
    assert first_id(f'vehículos de bomberos "{quoted}"') == context.organisation_of[holding[0].id]


# 4. The keyword index follows the database ---------------------------------------------------------

OLD_WORD = "Kürbiskernölpresse"
NEW_WORD = "Holzofenbrotbackstube"


def keyword_hits(word: str) -> set[int]:
    return set(index_service().keywords().scores(word))


def test_keyword_index_follows_publication_edits_and_archiving(context: Corpus) -> None:
    assert keyword_hits(OLD_WORD) == keyword_hits(NEW_WORD) == set()
    search(OLD_WORD)  # the replica is built by the first search
    main = index_service().keywords().main
    organisation = create_organisation(
        org(
            "Ölmühle Steirerkraft",
            "AT",
            f"Soziale Landwirtschaft: in unserer {OLD_WORD} arbeiten Menschen mit Lernschwierigkeiten mit.",
            themes=["food_agriculture"],
        ),
        status=Status.PENDING,
    )
    try:
        assert organisation.id not in ranked_ids(OLD_WORD) and not keyword_hits(OLD_WORD)
        set_status(organisation, Status.PUBLISHED)
        assert keyword_hits(OLD_WORD) == {organisation.id}
        assert first_id(OLD_WORD) == organisation.id

        update_organisation(
            organisation,
            {"description": f"Soziale Landwirtschaft: in unserer {NEW_WORD} arbeiten Menschen mit Behinderung."},
        )
        assert keyword_hits(NEW_WORD) == {organisation.id}
        assert keyword_hits(OLD_WORD) == set()
        assert first_id(NEW_WORD) == organisation.id
        assert first_id(OLD_WORD) != organisation.id

        set_status(organisation, Status.ARCHIVED)
        assert keyword_hits(NEW_WORD) == set()
        assert organisation.id not in ranked_ids(NEW_WORD)
        # The replica followed the change sequence: the main index was not rebuilt for these changes.
        assert index_service().keywords().main is main
    finally:
        delete_organisation(organisation)
    assert organisation.id not in ranked_ids(NEW_WORD)


def test_keyword_index_forgets_the_old_text_of_an_organisation_it_was_built_with(context: Corpus) -> None:
    search("Dorfbäckerei")  # the replica exists, built with the organisation's first text
    organisation = db.session.get(Organisation, context.named["distinctive"])
    original = organisation.description
    assert context.named["distinctive"] in keyword_hits("Dorfbäckerei")
    assert organisation.id in index_service().keywords().main.scores(["dorfbackerei"], hidden=set())
    try:
        update_organisation(organisation, {"description": original.replace("Dorfbäckerei", NEW_WORD)})
        assert keyword_hits("Dorfbäckerei") == set()
        assert keyword_hits(NEW_WORD) == {organisation.id}
        set_status(organisation, Status.ARCHIVED)
        assert keyword_hits(NEW_WORD) == set() and keyword_hits("Ostwestfalen") == set()
        assert organisation.id not in ranked_ids("Genossenschaft Lichtblick Ostwestfalen")
    finally:
        update_organisation(organisation, {"description": original})
        set_status(organisation, Status.PUBLISHED)
    assert keyword_hits("Dorfbäckerei") == {organisation.id}
    assert first_id("Genossenschaft Lichtblick Ostwestfalen") == organisation.id


def test_keyword_index_follows_changes_made_by_another_process(search_app: Flask, corpus: Corpus) -> None:
    with search_app.app_context():
        search(NEW_WORD)  # this process's replica exists before the other process writes
    other = another_process(search_app)
    with other.app_context():
        created = create_organisation(
            org(
                "Backstube Sonnenseite",
                "AT",
                f"Inklusive {NEW_WORD}: Brot aus dem Holzofen, gebacken im Team.",
                themes=["food_agriculture"],
            ),
            status=Status.PUBLISHED,
        )
        created_id = created.id
    with search_app.app_context():
        try:
            assert keyword_hits(NEW_WORD) == {created_id}
            assert first_id(NEW_WORD) == created_id
        finally:
            delete_organisation(db.session.get(Organisation, created_id))
        assert keyword_hits(NEW_WORD) == set()
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


# 5. Pages ------------------------------------------------------------------------------------------


def test_pages_split_the_result_set_without_overlap(context: Corpus) -> None:
    everything = ranked_ids(TOPIC_QUERY_ES)
    per_page = 15
    first = search_page(TOPIC_QUERY_ES, per_page=per_page)
    assert first.total == len(everything) and first.pages == -(-len(everything) // per_page) >= 3
    collected: list[int] = []
    for number in range(1, first.pages + 1):
        found = search_page(TOPIC_QUERY_ES, page=number, per_page=per_page)
        assert (found.page, found.pages, found.total) == (number, first.pages, first.total)
        assert found.first_rank == len(collected) + 1
        expected = per_page if number < first.pages else first.total - per_page * (first.pages - 1)
        assert len(found.results) == expected
        collected += [r.organisation.id for r in found.results]
    assert len(set(collected)) == len(collected) and collected == everything
    assert search_page(TOPIC_QUERY_ES, page=first.pages + 3, per_page=per_page).page == first.pages
    assert search_page(TOPIC_QUERY_ES, page=0, per_page=per_page).page == 1


def test_pages_of_a_filtered_search(context: Corpus) -> None:
    filters = Filters(countries=("GR",))
    everything = ranked_ids(TOPIC_QUERY_ES, filters)
    pages = [search_page(TOPIC_QUERY_ES, filters, page=n, per_page=10) for n in (1, 2, 3, 4)]
    assert all(found.total == len(everything) for found in pages)
    ids = [r.organisation.id for found in pages[: pages[0].pages] for r in found.results]
    assert ids == everything and len(set(ids)) == len(ids)


# 6. The /search page ------------------------------------------------------------------------------

CHECKBOX = re.compile(
    r'<input type="checkbox" id="(?P<param>[a-z_]+)-(?P<code>[^"]+)" name="(?P=param)" value="(?P=code)" ?'
    r"(?P<checked>checked)?>\s*<label for=\"(?P=param)-(?P=code)\">[^<]*<span class=\"count\">\((?P<count>\d+)\)</span>"
)
HREF = re.compile(r'href="([^"]*)"')


def result_names(page: str) -> list[str]:
    """The names of the results, in the order of the page."""
    return [html.unescape(name) for name in re.findall(r"<h3>([^<]*)(?:</h3>| <span)", page)]


def pager_links(page: str) -> list[dict[str, list[str]]]:
    pager = re.search(r'<nav aria-label="[^"]*" class="pager">(.*?)</nav>', page, re.S)
    assert pager, "no pager"
    return [parse_qs(urlsplit(html.unescape(href)).query) for href in HREF.findall(pager.group(1))]


def test_search_page_shows_results_facets_marks_and_keeps_filters(search_app: Flask, corpus: Corpus) -> None:
    query = "Hochwasserschutz"
    arguments = {"q": query, "country": ["DE", "AT"], "size": ["", "small", "medium", "large", "micro"][1:]}
    filters = Filters(countries=("DE", "AT"), sizes=("small", "medium", "large", "micro"))
    response = search_app.test_client().get("/search", query_string=arguments)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    with search_app.app_context():
        found = search_page(query, filters)
        names = [r.organisation.name for r in found.results]
        second = [r.organisation.name for r in search_page(query, filters, page=2).results]
    assert found.pages >= 2
    assert result_names(page) == names
    assert f'role="status">{found.total} ' in page
    assert f"<mark>{query}</mark>" in page
    # Every facet value is a checkbox with its count; the chosen ones are checked.
    shown = {(m["param"], m["code"]): (int(m["count"]), bool(m["checked"])) for m in CHECKBOX.finditer(page)}
    expected = {
        (param, value.code): (value.count, value.selected)
        for facet, (_attribute, param) in FACET_ATTRIBUTES.items()
        for value in found.facets[facet]
    }
    assert shown == expected
    assert shown[("country", "DE")][1] and shown[("size", "small")][1] and not shown[("country", "GR")][1]
    # Pagination links keep the query and the filters.
    links = pager_links(page)
    assert links
    for link in links:
        assert link["q"] == [query]
        assert sorted(link["country"]) == ["AT", "DE"]
        assert sorted(link["size"]) == ["large", "medium", "micro", "small"]
        assert "theme" not in link and "language" not in link
    assert {link["page"][0] for link in links} >= {"2"}
    following = search_app.test_client().get("/search", query_string={**arguments, "page": 2})
    assert result_names(following.get_data(as_text=True)) == second != names


def test_unknown_filter_codes_are_ignored(search_app: Flask, corpus: Corpus) -> None:
    client = search_app.test_client()
    response = client.get(
        "/search",
        query_string={
            "q": TOPIC_QUERY_ES,
            "country": ["GR", "XX", "gr", "<b>"],
            "theme": ["no_such_theme"],
            "legal_form": ["plc"],
            "language": ["zz"],
            "partnership_type": ["merger"],
            "size": ["huge"],
            "page": "not-a-number",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    with search_app.app_context():
        found = search_page(TOPIC_QUERY_ES, Filters(countries=("GR",)))
    assert f'role="status">{found.total} ' in page
    checked = {(m["param"], m["code"]) for m in CHECKBOX.finditer(page) if m["checked"]}
    assert checked == {("country", "GR")}
    for code in ("XX", "no_such_theme", "plc", "zz", "merger", "huge"):
        assert f'value="{code}"' not in page
    for link in pager_links(page):
        assert link["country"] == ["GR"] and set(link) == {"q", "page", "country"}


def test_results_by_country_chart_shows_the_countries_of_the_results(search_app: Flask, corpus: Corpus) -> None:
    page = search_app.test_client().get("/search", query_string={"q": TOPIC_QUERY_ES, "country": "GR"})
    chart = re.search(
        r'<section aria-labelledby="by-country-title" class="chart">(.*?)</section>', page.get_data(as_text=True), re.S
    )
    assert chart
    with search_app.app_context():
        found = search_page(TOPIC_QUERY_ES, Filters(countries=("GR",)))
    counts = [int(c) for c in re.findall(r'class="count">(\d+)</text>', chart.group(1))]
    assert counts == [found.total]
