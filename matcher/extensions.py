"""Extension objects, created without an app so that every module can import them."""

from __future__ import annotations

from flask_babel import Babel
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of every table: typed SQLAlchemy 2 models."""


db = SQLAlchemy(model_class=Base)
babel = Babel()
