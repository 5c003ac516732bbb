"""Query vectors shared by every worker and host through Redis, so that a text typed once is
embedded once: a user who refines the filters of a match lands on any worker, and the embedding
is most of the CPU a match costs (docs/benchmarks.md).

Only vectors are kept, under a hash of the text (never the text), for a week. The cache is an
optimisation: when Redis does not answer, matching goes on without it and tries again later.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence

import numpy as np
import redis

log = logging.getLogger(__name__)

KEPT_SECONDS = 7 * 24 * 3600
# After a failure, Redis is left alone this long: a search never waits for a dead cache twice in a row.
RETRY_AFTER_SECONDS = 30.0
TIMEOUT_SECONDS = 0.25


class SharedVectors:
    """float32 vectors of one model in Redis, keyed by role and text hash."""

    def __init__(self, url: str, model_id: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS)
        self._prefix = f"matcher:vector:{hashlib.sha256(model_id.encode()).hexdigest()[:16]}"
        self._down_until = 0.0

    def key(self, role: str, text: str) -> str:
        return f"{self._prefix}:{role}:{hashlib.sha256(text.encode()).hexdigest()}"

    def get(self, role: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors held for those texts (none when Redis is unreachable)."""
        if not texts or time.monotonic() < self._down_until:
            return {}
        try:
            blobs = self._client.mget([self.key(role, t) for t in texts])
        except redis.RedisError as error:
            self._failed(error)
            return {}
        return {t: np.frombuffer(b, dtype="<f4").copy() for t, b in zip(texts, blobs, strict=True) if b}

    def put(self, role: str, vectors: dict[str, np.ndarray]) -> None:
        if not vectors or time.monotonic() < self._down_until:
            return
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for text, vector in vectors.items():
                    pipe.set(self.key(role, text), np.asarray(vector, dtype="<f4").tobytes(), ex=KEPT_SECONDS)
                pipe.execute()
        except redis.RedisError as error:
            self._failed(error)

    def _failed(self, error: Exception) -> None:
        log.warning("shared vector cache unavailable (%s): embedding locally for %g s", error, RETRY_AFTER_SECONDS)
        self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
