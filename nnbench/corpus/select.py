"""Matrix selectors: comma lists of names, `tag:` expressions, `all` and `file:PATH`.

`tag:spd` selects families tagged spd; `+` means and, `!` means not:
`tag:square+!image` is every square non-image family. Commas mean or.
"""

from __future__ import annotations

import difflib

from nnbench.corpus.family import MatrixFamily
from nnbench.corpus.files import file_family
from nnbench.corpus.registry import MATRIX_FAMILIES
from nnbench.corpus.tags import TAG_CHECKS
from nnbench.errors import NNBenchError


def unknown_name_error(kind: str, name: str, known: list[str], listing: str) -> NNBenchError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return NNBenchError(f"unknown {kind} {name!r}", f"{hint}see `python -m nnbench list {listing}`")


def _tag_match(expression: str) -> list[MatrixFamily]:
    terms = [t.strip() for t in expression.split("+") if t.strip()]
    if not terms:
        raise NNBenchError("empty tag expression", "write e.g. tag:spd or tag:square+!image")
    for term in terms:
        tag = term.removeprefix("!")
        if tag not in TAG_CHECKS:
            raise unknown_name_error("tag", tag, sorted(TAG_CHECKS), "matrices")

    def keep(family: MatrixFamily) -> bool:
        return all((t.removeprefix("!") in family.tags) != t.startswith("!") for t in terms)

    return [f for f in MATRIX_FAMILIES.values() if keep(f)]


def select_matrices(selector: str | list[str]) -> list[MatrixFamily]:
    """Resolve a selector to families, in registry order then file order, without duplicates."""
    terms = selector.split(",") if isinstance(selector, str) else list(selector)
    terms = [t.strip() for t in terms if t.strip()]
    if not terms:
        raise NNBenchError("no matrices selected", "pass --matrices NAME[,NAME...], tag:TAG or all")
    chosen: dict[str, MatrixFamily] = {}
    for term in terms:
        if term == "all":
            found = list(MATRIX_FAMILIES.values())
        elif term.startswith("tag:"):
            found = _tag_match(term.removeprefix("tag:"))
        elif term.startswith("file:"):
            found = [file_family(term.removeprefix("file:"))]
        elif term in MATRIX_FAMILIES:
            found = [MATRIX_FAMILIES[term]]
        else:
            raise unknown_name_error("matrix", term, list(MATRIX_FAMILIES), "matrices")
        if not found:
            raise NNBenchError(
                f"selector {term!r} matches no matrix", "see `nnbench list matrices`"
            )
        for family in found:
            chosen.setdefault(family.name, family)
    return list(chosen.values())
