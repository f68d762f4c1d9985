"""The search query language, parsed once and compiled for each database.

Syntax: words (all must match), ``"exact phrases"``, prefixes (``confid*``) and exclusions
(``-draft``). Anything else is punctuation and ignored. Parsing into terms and quoting every
term when compiling means a user can never inject the FTS5 or tsquery syntax of the database;
an unbalanced quote or a query without any positive term is a 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dossier.search.errors import InvalidSearchQuery

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or several for a phrase
    prefix: bool = False  # the last word is a prefix
    negated: bool = False


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[Term, ...]

    @property
    def positive(self) -> list[Term]:
        return [term for term in self.terms if not term.negated]

    @property
    def negative(self) -> list[Term]:
        return [term for term in self.terms if term.negated]

    def to_fts5(self) -> str:
        """An FTS5 MATCH expression: every term a quoted string, so no operator leaks in."""

        def render(term: Term) -> str:
            if term.prefix and len(term.words) == 1:
                shorter = " OR ".join(f'"{stem}"' for stem in _stems_within(term.words[0]))
                return f'("{term.words[0]}"*' + (f" OR {shorter})" if shorter else ")")
            return '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "")

        expression = " AND ".join(render(term) for term in self.positive)
        for term in self.negative:
            expression = f"({expression}) NOT {render(term)}"
        return expression

    def to_tsquery(self) -> str:
        """A ``to_tsquery`` string: phrases with ``<->``, prefixes with ``:*``."""

        def render(term: Term) -> str:
            parts = [f"'{word}'" for word in term.words]
            if term.prefix:
                parts[-1] += ":*"
            text = " <-> ".join(parts)
            if len(parts) > 1:
                text = f"({text})"
            elif term.prefix and (stems := _stems_within(term.words[0])):
                text = "(" + " | ".join([text, *(f"'{stem}'" for stem in stems)]) + ")"
            return f"!{text}" if term.negated else text

        return " & ".join(render(term) for term in self.terms)


def _stems_within(prefix: str) -> list[str]:
    """Shorter forms a stemmed index may hold for words starting with ``prefix``.

    Both engines index word stems ("navigation" is stored as "navig"), so the prefix
    "naviga" alone would miss it. A stem is (nearly always) a leading part of its word, so a
    word starting with the prefix is stored either as something starting with the prefix or
    as one of the prefix's own leading parts; those are matched as whole stems. Stemmers cut at
    most a few letters, so only the last three lengths are tried.
    """
    return [prefix[:length] for length in range(max(3, len(prefix) - 3), len(prefix))]


def parse_query(raw: str) -> SearchQuery:
    text = raw.strip()
    if not text:
        raise InvalidSearchQuery("The search query is empty.")
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidSearchQuery(f"The search query is longer than {MAX_QUERY_CHARS} characters.")
    if text.count('"') % 2:
        raise InvalidSearchQuery("The search query has an unbalanced double quote.")
    terms: list[Term] = []
    for match in _TOKEN.finditer(text):
        negated_phrase, phrase, bare = match.groups()
        if bare is None:
            words = tuple(word.lower() for word in _WORD.findall(phrase))
            if words:
                terms.append(Term(words=words, negated=bool(negated_phrase)))
            continue
        negated = bare.startswith("-") and len(bare) > 1
        body = bare[1:] if negated else bare
        prefix = body.endswith("*")
        words = tuple(word.lower() for word in _WORD.findall(body))
        if not words:
            continue
        # "e-mail" or "v1.2" are one token to the user and several words to the index.
        terms.append(Term(words=words, prefix=prefix, negated=negated))
    if len(terms) > MAX_TERMS:
        raise InvalidSearchQuery(f"The search query has more than {MAX_TERMS} terms.")
    if not any(not term.negated for term in terms):
        raise InvalidSearchQuery("The search query needs at least one word to look for.")
    return SearchQuery(terms=tuple(terms))
