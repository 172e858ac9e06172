"""Matrix selectors: comma lists of names, `tag:` expressions, `all` and `file:PATH`.

`tag:spd` selects families tagged spd; `+` means and, `!` means not:
`tag:square+!image` is every square non-image family. Commas mean or.
"""

from __future__ import annotations

from nnbench.corpus.family import MatrixFamily
from nnbench.corpus.files import file_family
from nnbench.corpus.registry import MATRIX_FAMILIES
from nnbench.corpus.tags import TAG_CHECKS
from nnbench.errors import NNBenchError
from nnbench.selection import select, unknown_name_error


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


def _resolve(term: str) -> list[MatrixFamily]:
    if term == "all":
        return list(MATRIX_FAMILIES.values())
    if term.startswith("tag:"):
        return _tag_match(term.removeprefix("tag:"))
    if term.startswith("file:"):
        return [file_family(term.removeprefix("file:"))]
    if term in MATRIX_FAMILIES:
        return [MATRIX_FAMILIES[term]]
    raise unknown_name_error("matrix", term, list(MATRIX_FAMILIES), "matrices")


def select_matrices(selector: str | list[str]) -> list[MatrixFamily]:
    """Resolve a selector to families, in registry order then file order, without duplicates."""
    terms = selector.split(",") if isinstance(selector, str) else list(selector)
    return select(
        terms,
        _resolve,
        lambda f: f.name,
        what="matrices",
        example="--matrices NAME[,NAME...], tag:TAG or all",
    )
