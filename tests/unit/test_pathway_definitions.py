"""The pathway definitions loader: the partnership's files load, and a broken file stops with a
ConfigurationError that names the file and the line of the mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from casework.pathways.definitions import PATHWAYS_DIR, load_pathway, load_pathways
from casework.people.codes import information
from casework.settings import ConfigurationError

#: A small valid pathway. Each test changes one part and checks the line the error names.
TINY = """\
key = "tiny"
name = "Tiny"
reference_prefix = "TIN"
referring_kinds = ["health"]
receiving_kinds = ["treatment"]
main_path = ["open", "done"]

[stages.open]
label = "Open"
category = "health"

[stages.open.clock]
task = "Do it"
due_field = "when"
days = 3

[stages.done]
label = "Done"
category = "health"
terminal = true

[transitions.start]
label = "Start"
to = "open"
sides = ["referring"]
roles = ["worker"]

[[transitions.start.fields]]
name = "when"
label = "When"
kind = "date"

[[transitions.start.fields]]
name = "score"
label = "Score"
kind = "integer"
minimum = 0
maximum = 24

[[transitions.start.effects]]
when_field = "score"
at_least = 14
task = "Act on a high score"
done_at = ["done"]

[transitions.finish]
label = "Finish"
from = ["open"]
to = "done"
sides = ["receiving"]
roles = ["worker"]
"""


def _write(tmp_path: Path, text: str, name: str = "tiny.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(text: str, marker: str, occurrence: int = 1) -> int:
    """The 1-based line of the ``occurrence``-th line that contains ``marker``."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]
    return found[occurrence - 1]


def _refused(path: Path) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_pathway(path, frozenset(information().alerts))
    return str(caught.value)


def test_the_partnerships_pathways_load() -> None:
    loaded = load_pathways(PATHWAYS_DIR, frozenset(information().alerts))
    assert {"required_assessment", "general", "hospital", "domestic_abuse", "prison_release"} <= (
        set(loaded.by_key)
    )
    assert loaded["prison_release"].stages["awaiting_pickup"].clock is not None


def test_the_tiny_pathway_is_valid(tmp_path: Path) -> None:
    pathway = load_pathway(_write(tmp_path, TINY))
    assert pathway.key == "tiny"
    assert pathway.transitions["start"].effects[0].done_at == ["done"]


def test_an_unknown_key_names_its_line(tmp_path: Path) -> None:
    text = TINY.replace('label = "Done"\n', 'label = "Done"\ncolour = "green"\n')
    message = _refused(_write(tmp_path, text))
    assert str(tmp_path / "tiny.toml") in message
    assert f"line {_line_of(text, 'colour')}:" in message
    assert "colour" in message


def test_an_unknown_top_level_key_names_its_line(tmp_path: Path) -> None:
    text = TINY.replace(
        'main_path = ["open", "done"]\n', 'main_path = ["open", "done"]\nowner = "x"\n'
    )
    message = _refused(_write(tmp_path, text))
    assert f"line {_line_of(text, 'owner =')}:" in message


def test_an_unknown_category_names_its_line(tmp_path: Path) -> None:
    text = TINY.replace(
        'label = "Done"\ncategory = "health"', 'label = "Done"\ncategory = "finance"'
    )
    message = _refused(_write(tmp_path, text))
    assert str(tmp_path / "tiny.toml") in message
    assert f"line {_line_of(text, 'finance')}:" in message
    assert "stages.done.category" in message


def test_a_transition_to_a_missing_stage_names_its_line(tmp_path: Path) -> None:
    text = TINY.replace('to = "done"', 'to = "finished"')
    message = _refused(_write(tmp_path, text))
    assert f"line {_line_of(text, 'finished')}:" in message
    assert "no stage 'finished'" in message


def test_a_transition_from_a_missing_stage_names_its_line(tmp_path: Path) -> None:
    text = TINY.replace('from = ["open"]', 'from = ["opened"]')
    message = _refused(_write(tmp_path, text))
    assert f"line {_line_of(text, 'opened')}:" in message


def test_an_effect_on_a_field_the_transition_does_not_record_names_its_line(
    tmp_path: Path,
) -> None:
    text = TINY.replace('when_field = "score"', 'when_field = "dash"')
    message = _refused(_write(tmp_path, text))
    assert f"line {_line_of(text, 'when_field')}:" in message
    assert "no field 'dash'" in message


def test_a_required_when_on_a_missing_field_names_its_line(tmp_path: Path) -> None:
    text = TINY.replace(
        'kind = "date"\n', 'kind = "date"\nrequired = false\nrequired_when = "disputed"\n'
    )
    message = _refused(_write(tmp_path, text))
    assert f"line {_line_of(text, 'required_when')}:" in message
    assert "'disputed' is not a yes/no field here" in message


def test_a_check_on_a_field_that_is_not_a_date_names_its_line(tmp_path: Path) -> None:
    check = (
        '\n[[transitions.finish.checks]]\nkind = "working_days_after"\nfield = "score"\n'
        'after = "when"\ndays = 5\nmessage = "Too soon"\n'
    )
    text = TINY + check
    message = _refused(_write(tmp_path, text))
    assert f"line {_line_of(text, 'field = ' + chr(34) + 'score', 2)}:" in message  # not when_field


def test_a_clock_on_a_field_not_recorded_names_its_line(tmp_path: Path) -> None:
    text = TINY.replace('due_field = "when"', 'due_field = "released_on"')
    message = _refused(_write(tmp_path, text))
    assert f"line {_line_of(text, 'released_on')}:" in message
    assert "'released_on' is not recorded" in message


def test_a_clock_may_count_from_a_date_required_when_the_referral_starts(tmp_path: Path) -> None:
    # A later stage counting from the start's date (the prison-release clock) is valid...
    later = (
        '\n[stages.booked]\nlabel = "Booked"\ncategory = "health"\n\n'
        '[stages.booked.clock]\ntask = "Still due"\ndue_field = "when"\ndays = 21\n\n'
        '[transitions.book]\nlabel = "Book"\nfrom = ["open"]\nto = "booked"\n'
        'sides = ["receiving"]\nroles = ["worker"]\n'
    )
    assert load_pathway(_write(tmp_path, TINY + later)).stages["booked"].clock is not None
    # ... but not when the start may leave it out.
    optional = TINY.replace('kind = "date"\n', 'kind = "date"\nrequired = false\n') + later
    message = _refused(_write(tmp_path, optional))
    assert f"line {_line_of(optional, 'due_field', 2)}:" in message


def test_done_at_a_missing_stage_names_its_line(tmp_path: Path) -> None:
    text = TINY.replace('done_at = ["done"]', 'done_at = ["marac"]')
    message = _refused(_write(tmp_path, text))
    assert f"line {_line_of(text, 'done_at')}:" in message
    assert "no stage 'marac'" in message


def test_an_unknown_alert_names_its_line(tmp_path: Path) -> None:
    text = TINY.replace('task = "Act on a high score"', 'alert = "no_such_alert"')
    text = text.replace('done_at = ["done"]\n', "")
    message = _refused(_write(tmp_path, text))
    assert f"line {_line_of(text, 'no_such_alert')}:" in message


def test_a_score_field_with_a_bad_bound_names_its_line(tmp_path: Path) -> None:
    text = TINY.replace("maximum = 24", 'maximum = "lots"')
    message = _refused(_write(tmp_path, text))
    assert f"line {_line_of(text, 'lots')}:" in message


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, TINY.replace('name = "Tiny"', "name = Tiny"))
    message = _refused(path)
    assert str(path) in message
    assert "line 2" in message


def test_a_file_named_after_another_key_is_refused(tmp_path: Path) -> None:
    message = _refused(_write(tmp_path, TINY, name="small.toml"))
    assert "small.toml" in message
    assert "tiny.toml" in message
    assert "line 1:" in message


def test_two_files_with_one_prefix_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, TINY)
    twin = TINY.replace('key = "tiny"', 'key = "twin"')
    _write(tmp_path, twin, name="twin.toml")
    with pytest.raises(ConfigurationError) as caught:
        load_pathways(tmp_path)
    assert "twin.toml, line 3" in str(caught.value)
