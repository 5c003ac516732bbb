"""Staff import files may be larger than any other request; the larger limit is set before the
body is read (CSRF protection reads it), and only for a signed-in staff member."""

from __future__ import annotations

from flask import current_app, request
from flask_login import current_user

UPLOAD_ENDPOINT = "staff.import_upload"


def allow_staff_uploads() -> None:
    if request.endpoint == UPLOAD_ENDPOINT and current_user.is_authenticated:
        request.max_content_length = current_app.config["MATCHER_MAX_UPLOAD_BYTES"]
