"""The query language parses once and compiles safely for both engines."""

from __future__ import annotations

import pytest

from dossier.search.errors import InvalidSearchQuery
from dossier.search.query import parse_query


def test_words_phrases_prefixes_and_exclusions() -> None:
    query = parse_query('alpha "exact phrase" pre* -draft')
    assert query.to_fts5() == '("alpha" AND "exact phrase" AND ("pre"*)) NOT "draft"'
    assert query.to_tsquery() == "'alpha' & ('exact' <-> 'phrase') & 'pre':* & !'draft'"


def test_long_prefixes_also_match_their_stems() -> None:
    query = parse_query("naviga*")
    assert query.to_fts5() == '("naviga"* OR "nav" OR "navi" OR "navig")'
    assert query.to_tsquery() == "('naviga':* | 'nav' | 'navi' | 'navig')"


def test_operators_of_the_engines_cannot_be_injected() -> None:
    query = parse_query('NEAR(a b) OR x:* & !y \' " " (c)')
    fts = query.to_fts5()
    assert "NEAR(" not in fts
    assert fts.count('"') % 2 == 0
    assert "!" not in query.to_tsquery().replace("!'", "")


def test_hyphenated_words_become_a_phrase() -> None:
    assert parse_query("e-mail").to_fts5() == '"e mail"'


@pytest.mark.parametrize("raw", ["", "   ", '"unbalanced', "-only", "!!! ???", "x" * 501])
def test_malformed_queries_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidSearchQuery):
        parse_query(raw)
