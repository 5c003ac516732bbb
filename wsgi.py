"""WSGI entry point (`gunicorn wsgi:app`, `flask --app wsgi run`): the model and index load at start-up."""

from matcher import create_app
from matcher.partners.indexing import warm_up

app = create_app()
warm_up(app)
