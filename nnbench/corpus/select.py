"""Matrix selectors: comma lists of names, groups (`mesh`), `tag:` expressions, `all` and
`file:PATH`.

`tag:spd` selects families tagged spd; `+` means and, `!` means not:
`tag:square+!image` is every square non-image family. Commas mean or.
"""

from __future__ import annotations

from pathlib import Path

from nnbench.corpus.family import MatrixFamily
from nnbench.corpus.files import READERS, file_family
from nnbench.corpus.registry import MATRIX_FAMILIES, MATRIX_GROUPS
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
    if term in MATRIX_GROUPS:
        return [MATRIX_FAMILIES[name] for name in MATRIX_GROUPS[term]]
    known = [*MATRIX_FAMILIES, *MATRIX_GROUPS]
    raise unknown_name_error("matrix", term, known, "matrices")


def _is_selector(piece: str) -> bool:
    """Whether a comma-split piece reads as a selector of its own, not part of a file name."""
    term = piece.strip()
    known = ("all", *MATRIX_FAMILIES, *MATRIX_GROUPS)
    return term in known or term.startswith(("tag:", "file:"))


def join_file_names(pieces: list[str]) -> list[str]:
    """The comma-split pieces of a selector with each `file:` path whole again. A piece
    after `file:` that names no existing path may take the pieces after it that are no
    selector of their own (a family, `all`, `tag:...`, `file:...`): up to the first join that
    exists; if none does, the path meant (for the error) is the longest join with a readable
    suffix (`file:a,b.npy`), else the longest (`file:a,b`)."""
    terms: list[str] = []
    i = 0
    while i < len(pieces):
        last = i + 1
        if pieces[i].strip().startswith("file:") and not _path(pieces[i]).exists():
            while last < len(pieces) and not _is_selector(pieces[last]):
                last += 1
        joins = {end: ",".join(pieces[i:end]) for end in range(i + 1, last + 1)}
        existing = [end for end, term in joins.items() if _path(term).exists()]
        readable = [end for end, term in joins.items() if _path(term).suffix.lower() in READERS]
        i = (existing[:1] or readable[-1:] or [last])[0]
        terms.append(joins[i])
    return terms


def _path(term: str) -> Path:
    return Path(term.strip().removeprefix("file:"))


def select_matrices(selector: str | list[str]) -> list[MatrixFamily]:
    """Resolve a selector to families, in registry order then file order, without duplicates.
    Commas separate selectors, and a file name may hold commas (see `join_file_names`)."""
    pieces = selector.split(",") if isinstance(selector, str) else list(selector)
    terms = join_file_names(pieces)
    return select(
        terms,
        _resolve,
        lambda f: f.name,
        what="matrices",
        example="--matrices NAME[,NAME...], a group (mesh), tag:TAG or all",
    )
