"""The selector loop every registry shares: comma-separated terms, each resolved to items,
kept in first-seen order without duplicates, with one error naming the fix."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import TypeVar

from nnbench.errors import NNBenchError

T = TypeVar("T")


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
