"""Casework: case management for multi-agency complex cases.

The application factory is :func:`casework.app.create_app`; the console script is ``casework``.
"""
