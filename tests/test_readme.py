"""The README documents every setting and the two commands."""

from __future__ import annotations

from pathlib import Path

from dossier.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table() -> None:
    missing = [
        f"DOSSIER_{name.upper()}"
        for name in Settings.model_fields
        if f"| `DOSSIER_{name.upper()}` |" not in README
    ]
    assert missing == []


def test_quick_start_names_the_two_commands() -> None:
    assert "make run" in README
    assert "make test" in README
