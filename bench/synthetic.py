"""Grow an instance's database to N organisations for the scale benchmarks, without embedding
N texts (26 minutes per 22k on 2 cores): each new organisation copies the texts of one of the
example organisations (so results stay readable) and takes that organisation's stored vectors
plus Gaussian noise, renormalised. The vectors therefore cluster like real e5 vectors around
real topics; they are not real embeddings of the texts. The index is rebuilt afterwards.

Run: MATCHER_INSTANCE_PATH=/tmp/scale-100k .venv/bin/python -m bench.synthetic --total 100000
(on a new instance: `matcher db upgrade` and `matcher examples load` first).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sqlalchemy import func, insert, select
from tqdm import tqdm

from matcher import create_app
from matcher.engine.embedding import from_bytes, to_bytes
from matcher.extensions import db
from matcher.partners.indexing import FIELDS, index_service
from matcher.partners.models import Change, Embedding, Organisation, utcnow
from matcher.partners.vocabulary import EU_COUNTRIES, Source, Status

CHUNK = 5000
# Noise per dimension: cosine to the source vector about 0.9, between two copies about 0.8.
NOISE = 0.017
COPIED = ("description", "description_language", "offers", "seeks", "legal_form", "size", "themes", "languages")


def _noisy(vector: np.ndarray, rng: np.random.Generator) -> bytes:
    moved = vector + rng.normal(0.0, NOISE, vector.shape).astype(np.float32)
    return to_bytes(moved / np.linalg.norm(moved))


def _noisy_or_none(vector: np.ndarray | None, rng: np.random.Generator) -> bytes | None:
    return None if vector is None else _noisy(vector, rng)


def grow(total: int, seed: int = 0) -> int:
    """Add synthetic organisations until the database holds `total`; return how many were added."""
    rng = np.random.default_rng(seed)
    sources = db.session.scalars(select(Organisation).join(Embedding).where(Organisation.is_example)).all()
    if not sources:
        raise SystemExit("load the example organisations first: matcher examples load")
    vectors = {o.id: {f: from_bytes(b) for f in FIELDS if (b := getattr(o.embedding, f))} for o in sources}
    have = db.session.scalar(select(func.count()).select_from(Organisation)) or 0
    wanted = max(0, total - have)
    now = utcnow()
    with tqdm(total=wanted, unit="org", disable=None) as bar:
        for start in range(0, wanted, CHUNK):
            count = min(CHUNK, wanted - start)
            picks = [sources[i] for i in rng.integers(0, len(sources), count)]
            rows = [
                {
                    **{name: getattr(source, name) for name in COPIED},
                    "name": f"{source.name} (synthetic {have + start + n})",
                    "country": EU_COUNTRIES[int(rng.integers(0, len(EU_COUNTRIES)))],
                    "status": Status.PUBLISHED,
                    "source": Source.IMPORT,
                    "source_reference": f"synthetic:{have + start + n}",
                    "created_at": now,
                    "updated_at": now,
                }
                for n, source in enumerate(picks)
            ]
            ids = db.session.scalars(insert(Organisation).returning(Organisation.id), rows).all()
            model_id = sources[0].embedding.model_id
            db.session.execute(
                insert(Embedding),
                [
                    {
                        "organisation_id": new_id,
                        "model_id": model_id,
                        **{
                            f: (_noisy(v, rng) if (v := vectors[source.id].get(f)) is not None else None)
                            for f in FIELDS
                        },
                    }
                    for new_id, source in zip(ids, picks, strict=True)
                ],
            )
            db.session.execute(insert(Change), [{"organisation_id": i} for i in ids])
            db.session.commit()
            bar.update(count)
    return wanted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, required=True)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        started = time.perf_counter()
        added = grow(args.total)
        grown = time.perf_counter()
        bundle = index_service().rebuild()
        print(f"added {added} in {grown - started:.0f} s; index rebuilt in {time.perf_counter() - grown:.0f} s")
        print(bundle.meta())


if __name__ == "__main__":
    main()
