"""Settings, read from the environment so that one build runs in development, CI and production."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEFAULT_SECRET_KEY = "dev-only-change-me"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def load_config(instance_path: Path) -> dict[str, Any]:
    """Return the Flask config mapping; every value can be overridden with a MATCHER_* variable."""
    model = os.environ.get("MATCHER_MODEL", str(REPO_ROOT / "models" / "multilingual-e5-small"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'matcher.sqlite3'}"
    return {
        "SECRET_KEY": os.environ.get("MATCHER_SECRET_KEY", DEFAULT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MATCHER_MODEL": model,
        "MATCHER_CENTERING_PATH": os.environ.get(
            "MATCHER_CENTERING_PATH", str(instance_path / "language-centering.npz")
        ),
        "MATCHER_INDEX_PATH": os.environ.get("MATCHER_INDEX_PATH", str(instance_path / "index.npz")),
        # Share of each language offset removed (1: every language centred on zero); 0 switches the
        # correction off (docs/quality.md).
        "MATCHER_CENTERING_STRENGTH": float(os.environ.get("MATCHER_CENTERING_STRENGTH", "1.0")),
        # From this many vectors in a field, IVF indexes (one per large country) replace exact search, whose
        # p95 for a three-part match passes 50 ms near 100k. IVF recall@10 on real vectors: 0.99 unfiltered,
        # 0.97 for match()'s allow-list of the other countries (docs/benchmarks.md, fourth pass).
        "MATCHER_APPROX_THRESHOLD": _int("MATCHER_APPROX_THRESHOLD", 50_000),
        "MATCHER_EMBED_BATCH": _int("MATCHER_EMBED_BATCH", 32),
        # "torch" (float32) or "onnx-int8" (about 2x faster per query; docs/benchmarks.md, docs/quality.md).
        "MATCHER_EMBED_BACKEND": os.environ.get("MATCHER_EMBED_BACKEND", "torch"),
        # Redis shared by the workers and hosts for query vectors (redis://host:6379/0); empty: each
        # process keeps only its own recent ones.
        "MATCHER_VECTOR_CACHE_URL": os.environ.get("MATCHER_VECTOR_CACHE_URL", ""),
        # Rate limits of the public forms (Flask-Limiter); memory:// per process, redis://... in production.
        "RATELIMIT_STORAGE_URI": os.environ.get("MATCHER_RATELIMIT_STORAGE", "memory://"),
        "MATCHER_SUBMISSION_LIMIT": os.environ.get("MATCHER_SUBMISSION_LIMIT", "20 per hour"),
        "MATCHER_INTRODUCTION_LIMIT": os.environ.get("MATCHER_INTRODUCTION_LIMIT", "20 per hour"),
        "MAX_CONTENT_LENGTH": _int("MATCHER_MAX_REQUEST_BYTES", 1_000_000),
        # The JSON API: bodies are small; callers without a token share a limit per address, each
        # staff token has its own (chosen when it is created; this is the default offered).
        "MATCHER_API_MAX_BYTES": _int("MATCHER_API_MAX_BYTES", 64_000),
        "MATCHER_API_LIMIT": os.environ.get("MATCHER_API_LIMIT", "60 per minute"),
        "MATCHER_API_TOKEN_LIMIT": os.environ.get("MATCHER_API_TOKEN_LIMIT", "600 per minute"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Files that staff import (the whole ESIF list is 18 MB).
        "MATCHER_MAX_UPLOAD_BYTES": _int("MATCHER_MAX_UPLOAD_BYTES", 100_000_000),
        # Behind a load balancer or reverse proxy: how many proxies set X-Forwarded-For/-Proto/-Host
        # (0: none; then those headers are ignored, since any client could send them).
        "MATCHER_PROXY_HOPS": _int("MATCHER_PROXY_HOPS", 0),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("MATCHER_ENV") == "production",
        "WTF_CSRF_TIME_LIMIT": None,
        # Outgoing mail: "folder" writes .eml files (development, tests); "smtp" sends them.
        "MATCHER_MAIL_BACKEND": os.environ.get("MATCHER_MAIL_BACKEND", "folder"),
        "MATCHER_MAIL_FOLDER": os.environ.get("MATCHER_MAIL_FOLDER", str(instance_path / "mail")),
        "MATCHER_MAIL_FROM": os.environ.get("MATCHER_MAIL_FROM", "ESS Partner Matcher <no-reply@localhost>"),
        "MATCHER_SMTP_HOST": os.environ.get("MATCHER_SMTP_HOST", "localhost"),
        "MATCHER_SMTP_PORT": _int("MATCHER_SMTP_PORT", 587),
        "MATCHER_SMTP_USER": os.environ.get("MATCHER_SMTP_USER", ""),
        "MATCHER_SMTP_PASSWORD": os.environ.get("MATCHER_SMTP_PASSWORD", ""),
        "MATCHER_SMTP_STARTTLS": os.environ.get("MATCHER_SMTP_STARTTLS", "1") == "1",
        # Profiles not updated for this many months are listed as due for review on the dashboard.
        "MATCHER_REVIEW_MONTHS": _int("MATCHER_REVIEW_MONTHS", 12),
        "MATCHER_LOGIN_LIMIT": os.environ.get("MATCHER_LOGIN_LIMIT", "10 per minute"),
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_TRANSLATION_DIRECTORIES": str(REPO_ROOT / "translations"),
        "LANGUAGES": ("fr", "en", "de", "es", "it", "nl", "pl"),
    }
