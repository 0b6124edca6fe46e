"""Fictional demonstration data (the "Northdale" partnership). Never real people."""
