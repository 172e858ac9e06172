"""The names the command line checks before it loads a registry: importing the methods'
registry loads torch, the studies' matplotlib (seconds together), and a mistyped name should
be refused at once. `name_index` is derived from the registries themselves, by importing
them, and kept in the cache folder under a hash of the package's source: an edit of any of
its files builds it again (one slow start). A test holds it equal to the registries."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from nnbench.selection import parse_term, unknown_name_error

PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class NameIndex:
    """The names a `--methods` or `--study` selector may use: methods, method groups and
    kinds (`kind:KIND`), studies, each in its registry's order."""

    methods: tuple[str, ...]
    groups: tuple[str, ...]
    kinds: tuple[str, ...]
    studies: tuple[str, ...]


def build_index() -> NameIndex:
    """The index, from the registries (imports torch and the studies: seconds)."""
    from nnbench.methods import GROUPS, KINDS, METHODS
    from nnbench.studies import STUDIES

    return NameIndex(tuple(METHODS), tuple(GROUPS), tuple(KINDS), tuple(STUDIES))


@functools.cache
def source_hash() -> str:
    """16 hex digits of every source file of the package (names and contents)."""
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def index_path() -> Path:
    from nnbench.corpus.inferred import cache_folder

    return cache_folder() / "names" / f"{source_hash()}.json"


def name_index() -> NameIndex:
    """The index of this source: read from the cache folder, else built and kept there (a
    cache that cannot be written is rebuilt next time, nothing worse)."""
    path = index_path()
    try:
        stored = json.loads(path.read_text())
        return NameIndex(**{key: tuple(values) for key, values in stored.items()})
    except (OSError, ValueError, TypeError):
        pass
    index = build_index()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as tmp:
            json.dump(asdict(index), tmp)
        os.replace(tmp.name, path)  # whole or not at all, even with several runs at once
        for old in path.parent.glob("*.json"):  # earlier sources' (one per edit)
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass
    return index


def check_method_terms(terms: Sequence[str], index: NameIndex) -> None:
    """Raise the registry's own error (`methods.select_methods`) for a term that names no
    method, group or kind; the options of a `NAME[...]` term are checked when it is built."""
    for term in filter(None, (t.strip() for t in terms)):
        if term == "all" or term in index.groups:
            continue
        if term.startswith("kind:"):
            kind = term.removeprefix("kind:")
            if kind not in index.kinds:
                raise unknown_name_error("kind", kind, index.kinds, "methods")
            continue
        name, _ = parse_term(term)
        if name not in index.methods:
            raise unknown_name_error("method", name, index.methods, "methods")


def check_study(name: str, index: NameIndex) -> None:
    """Raise `studies.get_study`'s error for a name that is no study."""
    if name not in index.studies:
        raise unknown_name_error("study", name, index.studies, "studies")
