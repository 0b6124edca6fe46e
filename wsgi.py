"""WSGI entry point for gunicorn: ``gunicorn wsgi:app``."""

import sys

from casework.app import create_app
from casework.settings import ConfigurationError

try:
    app = create_app()
except ConfigurationError as exc:  # one line naming the variable, not a traceback
    sys.stderr.write(f"casework: configuration error: {exc}\n")
    raise SystemExit(3) from None  # 3 = gunicorn "worker failed to boot": the master stops
