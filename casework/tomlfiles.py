"""Reading the partnership's TOML configuration files with errors that name file and line.

Pathways (``config/pathways/``) and escalation ladders (``config/ladders/``) are pydantic
models read from TOML; :func:`load_model` turns the first validation error into a
``ConfigurationError`` naming the file, the line and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from casework.settings import ConfigurationError

M = TypeVar("M", bound=BaseModel)

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_\"'.-]+)\s*=")


def line_index(text: str) -> dict[tuple[str | int, ...], int]:
    """Where each table and key of a TOML file starts: (path parts) -> line number.
    Arrays of tables get their index ([[a.b]] the second time is ("a", "b", 1)). Good for the
    plain TOML these files use (headers, keys, inline arrays and tables)."""
    where: dict[tuple[str | int, ...], int] = {}
    counts: dict[tuple[str | int, ...], int] = {}
    table: tuple[str | int, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            parts: tuple[str | int, ...] = tuple(
                part.strip().strip('"') for part in header.group(2).split(".")
            )
            # An array of tables nested in an earlier one: follow the latest index.
            resolved: list[str | int] = []
            for part in parts[:-1]:
                resolved.append(part)
                index = counts.get(tuple(resolved))
                if index is not None:
                    resolved.append(index - 1)
            resolved.append(parts[-1])
            table = tuple(resolved)
            if header.group(1) == "[[":
                counts[table] = counts.get(table, 0) + 1
                table = (*table, counts[table] - 1)
            where.setdefault(table, number)
            continue
        key = _KEY_LINE.match(line)
        if key:
            path = (*table, *(p.strip('"') for p in key.group(1).split(".")))
            where.setdefault(path, number)
    return where


def line_for(index: Mapping[tuple[str | int, ...], int], loc: Sequence[str | int]) -> int:
    """The line of the deepest part of ``loc`` the file spells out (1 if none)."""
    parts = tuple("from" if part == "from_" else part for part in loc)
    for end in range(len(parts), 0, -1):
        line = index.get(parts[:end])
        if line is not None:
            return line
    return 1


def describe(loc: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in loc if part != "from_") or "file"


def load_model(path: Path, model: type[M]) -> tuple[M, dict[tuple[str | int, ...], int]]:
    """Read ``path`` as ``model``; also return its line index for later cross-checks."""
    text = path.read_text(encoding="utf-8")
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: {exc}") from exc
    index = line_index(text)
    try:
        return model.model_validate(raw), index
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        raise ConfigurationError(
            f"{path}, line {line_for(index, loc)}: {describe(loc)}: {first['msg']}"
        ) from exc
