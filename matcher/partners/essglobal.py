"""Export in the ESSGlobal / DCAP-SSE "standard" CSV column set used by social and solidarity
economy maps (the RIPESS / Solidarity Economy Association open-data tools), for exchange.

Our legal forms and themes are mapped to the ESSGlobal organisational-structure (OS...) and
ICA activity (ICA...) vocabularies; the mapping is approximate where the vocabularies cut the
field differently (e.g. "work integration" has no activity of its own: it goes to "Social").
Columns the partner database does not hold (street, postcode, coordinates, social media) stay empty.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from sqlalchemy import select

from matcher.extensions import db
from matcher.partners.models import Organisation

COLUMNS = (
    "Identifier", "Name", "Description", "Organisational Structure", "Primary Activity", "Activities",
    "Street Address", "Locality", "Region", "Postcode", "Country ID", "Territory ID", "Website", "Phone", "Email",
    "Twitter", "Facebook", "Companies House Number", "Qualifiers", "Membership Type", "Latitude", "Longitude",
    "Geo Container", "Geo Container Latitude", "Geo Container Longitude",
)  # fmt: skip
ORGANISATIONAL_STRUCTURE = {
    "association": "OS20",  # Not-for-profit organisation
    "cooperative": "OS115",  # Co-operative
    "mutual": "OS170",  # Mutual
    "foundation": "OS40",  # Charity
    "social_enterprise": "OS30",  # Social enterprise
}
ACTIVITY = {
    "work_integration": "ICA190",  # Social
    "disability": "ICA200",  # Social Service
    "youth": "ICA190",
    "ageing_care": "ICA200",
    "health": "ICA170",  # Health
    "housing": "ICA210",  # Housing
    "food_agriculture": "ICA10",  # Agriculture
    "circular_economy": "ICA280",  # Other Services
    "energy": "ICA230",  # Utilities
    "mobility_transport": "ICA220",  # Transport
    "culture": "ICA180",  # Community
    "education_training": "ICA160",  # Education
    "fair_trade": "ICA260",  # Wholesale and retail trade
    "solidarity_finance": "ICA140",  # Financial Services
    "local_development": "ICA180",
    "migrants_refugees": "ICA200",
    "digital_inclusion": "ICA190",
    "gender_equality": "ICA190",
    "social_tourism": "ICA130",  # Tourism
    "environment": "ICA280",
}


def essglobal_row(organisation: Organisation, include_contact: bool) -> dict[str, str]:
    activities = list(dict.fromkeys(ACTIVITY[theme] for theme in organisation.themes if theme in ACTIVITY))
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        {
            "Identifier": str(organisation.id),
            "Name": organisation.name,
            "Description": organisation.description,
            "Organisational Structure": ORGANISATIONAL_STRUCTURE.get(organisation.legal_form, ""),
            "Primary Activity": activities[0] if activities else "",
            "Activities": ";".join(activities),
            "Locality": organisation.city,
            "Region": organisation.region,
            "Country ID": organisation.country,
            "Website": organisation.website,
            "Email": organisation.contact_email if include_contact else "",
        }
    )
    return row


def write_essglobal(handle: TextIO, statuses: Iterable[str] = (), include_contact: bool = False) -> int:
    query = select(Organisation).order_by(Organisation.id)
    if statuses := list(statuses):
        query = query.where(Organisation.status.in_(statuses))
    writer = csv.DictWriter(handle, fieldnames=COLUMNS)
    writer.writeheader()
    count = 0
    for organisation in db.session.scalars(query.execution_options(yield_per=1000)):
        writer.writerow(essglobal_row(organisation, include_contact))
        count += 1
    return count
