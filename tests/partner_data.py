"""Hand-written organisations for matching tests: targets doing the same thing in other
countries, and distractors that share words with the query but do something else."""

from __future__ import annotations

from typing import Any

QUERY_FR = {
    "description": (
        "Notre association gère un atelier vélo solidaire : nous récupérons des vélos abandonnés, "
        "les réparons avec des personnes éloignées de l'emploi en parcours d'insertion et les revendons "
        "à petit prix aux habitants du quartier."
    ),
    "seeks": "Des partenaires qui forment des mécaniciens cycles en insertion pour échanger nos méthodes.",
    "offers": "Notre méthode d'accompagnement des salariés en insertion dans un atelier de réparation.",
    "country": "FR",
}


def org(name: str, country: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "country": country, "description": description, "legal_form": "association", **extra}


TARGETS = [
    org(
        "Radwerk Leipzig",
        "DE",
        "Unsere gemeinnützige Fahrradwerkstatt beschäftigt langzeitarbeitslose Menschen: Sie reparieren "
        "gespendete und ausrangierte Fahrräder und lernen dabei das Handwerk. Die Räder verkaufen wir günstig "
        "an Menschen mit kleinem Einkommen.",
        offers="Erfahrung mit Qualifizierung von Langzeitarbeitslosen in der Fahrradreparatur.",
        legal_form="social_enterprise",
        themes=["work_integration", "circular_economy"],
    ),
    org(
        "Cooperativa Ruote Solidali",
        "IT",
        "Cooperativa sociale di tipo B che dà lavoro a persone svantaggiate nella riparazione di biciclette "
        "usate e abbandonate, recuperate dai comuni, rimesse a nuovo e rivendute a prezzi popolari.",
        offers="Percorsi di formazione per meccanici di biciclette rivolti a persone svantaggiate.",
        legal_form="cooperative",
        themes=["work_integration", "circular_economy"],
    ),
    org(
        "Spółdzielnia Socjalna Dwa Kółka",
        "PL",
        "Spółdzielnia socjalna, która zatrudnia osoby długotrwale bezrobotne przy naprawie porzuconych "
        "rowerów. Odnowione rowery sprzedajemy tanio mieszkańcom naszego miasta.",
        legal_form="cooperative",
        themes=["work_integration"],
    ),
]

DISTRACTORS = [
    org(
        "Atelier Théâtre Insertion",
        "BE",
        "Compagnie de théâtre qui anime des ateliers d'écriture et de mise en scène pour des adolescents "
        "du quartier ; nos spectacles parlent d'emploi, d'insertion et de la vie dans les quartiers populaires.",
        themes=["culture", "youth"],
    ),
    org(
        "Vélo Luxe Boutique",
        "LU",
        "Boutique de vélos de course haut de gamme en carbone et accessoires pour cyclistes sportifs ; "
        "vente de vélos électriques de luxe et location de vélos pour touristes en quartier d'affaires.",
        legal_form="other",
        themes=["mobility_transport"],
    ),
    org(
        "Agence Emploi Cadres Bruxelles",
        "BE",
        "Cabinet de recrutement qui place des cadres et des ingénieurs dans les grandes entreprises ; "
        "nous réparons les CV et accompagnons les personnes vers un nouvel emploi de direction.",
        legal_form="other",
        themes=["education_training"],
    ),
]

SAME_COUNTRY = org(
    "Atelier Vélo Solidaire de Lyon",
    "FR",
    "Atelier vélo solidaire : nous réparons des vélos abandonnés avec des personnes en insertion et les "
    "revendons à petit prix.",
    themes=["work_integration"],
)

UNPUBLISHED = org(
    "Fahrradwerkstatt Neustart (nicht veröffentlicht)",
    "AT",
    "Sozialökonomischer Betrieb: Langzeitarbeitslose reparieren alte Fahrräder und verkaufen sie günstig weiter.",
    themes=["work_integration"],
)
