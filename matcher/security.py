"""Response headers that every page carries (no inline script, no framing, no MIME sniffing), and
where a redirect given by a form may lead."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _secure(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def keep_private(response: Response) -> Response:
    """Pages behind a private link or a sign-in stay out of caches and search engines."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def local_path(target: str | None) -> str | None:
    """The target when it is a path on this site (never another host), else None."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def init_app(app: Flask) -> None:
    app.after_request(_secure)
