"""The selector loop every registry shares: comma-separated terms, each resolved to items,
kept in first-seen order without duplicates, with one error naming the fix; and a method
term's syntax, `NAME[key=value,...]` (read without loading any method: see `names`)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from nnbench.errors import NNBenchError

T = TypeVar("T")

_TERM = re.compile(r"^(?P<name>[^\[\]]+)\[(?P<options>[^\[\]]*)\]$")


def split_terms(selector: str) -> list[str]:
    """Split on commas that are not inside [...]."""
    terms, depth, current = [], 0, ""
    for char in selector:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    return [t.strip() for t in [*terms, current] if t.strip()]


def parse_term(term: str) -> tuple[str, dict[str, str]]:
    """`name[k=v,...]` -> (name, {k: v}); a plain name has no options."""
    match = _TERM.match(term)
    if match is None:
        if "[" in term or "]" in term:
            raise NNBenchError(
                f"cannot read method {term!r}", "write NAME[option=value,option=value]"
            )
        return term, {}
    options: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in match["options"].split(","))):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise NNBenchError(f"cannot read option {pair!r} in {term!r}", "write option=value")
        options[key.strip()] = value.strip()
    return match["name"].strip(), options


def unknown_name_error(kind: str, name: str, known: Sequence[str], listing: str) -> NNBenchError:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return NNBenchError(f"unknown {kind} {name!r}", f"{hint}see `python -m nnbench list {listing}`")


def select(
    terms: Sequence[str],
    resolve: Callable[[str], list[T]],
    key: Callable[[T], str],
    *,
    what: str,
    example: str,
) -> list[T]:
    """Items of every term, first-seen order, each once. `resolve` raises for unknown names;
    a term that resolves to nothing, or no terms at all, is an error."""
    terms = [t.strip() for t in terms if t.strip()]
    if not terms:
        raise NNBenchError(f"no {what} selected", f"pass {example}")
    chosen: dict[str, T] = {}
    for term in terms:
        found = resolve(term)
        if not found:
            raise NNBenchError(
                f"selector {term!r} matches no {what}", f"see `python -m nnbench list {what}`"
            )
        for item in found:
            chosen.setdefault(key(item), item)
    return list(chosen.values())
