"""The JSON API under ``/api/v1``: tokens, problem details, idempotency and the endpoints."""
