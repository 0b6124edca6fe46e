"""`casework pathways check`: a partnership checks a new pathway file before restarting.

The command is invoked on its own, not through the ``casework`` group, which would build an
application (and its database pools) that nothing here disposes."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from casework.cli import pathways_check
from casework.pathways.definitions import PATHWAYS_DIR


def test_the_shipped_pathways_pass() -> None:
    result = CliRunner().invoke(pathways_check, [])
    assert result.exit_code == 0, result.output
    assert "required_assessment: Required assessment and Fine Lines" in result.output


def test_a_broken_file_is_named_with_its_line(tmp_path: Path) -> None:
    text = (PATHWAYS_DIR / "general.toml").read_text("utf-8")
    broken = text.replace('label = "Accepted"\n', 'label = "Accepted"\ncolour = "green"\n')
    (tmp_path / "general.toml").write_text(broken, "utf-8")
    line = broken.splitlines().index('colour = "green"') + 1
    result = CliRunner().invoke(pathways_check, [str(tmp_path)])
    assert result.exit_code == 1
    assert f"general.toml, line {line}: stages.accepted.colour" in result.output
