"""WSGI entry point for gunicorn: ``gunicorn wsgi:app``."""

from casework.app import create_app

app = create_app()
