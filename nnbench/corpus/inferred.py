"""Tags of one fixed matrix (a user's file or array), inferred by the checks of
`TAG_CHECKS` only when something asks for them, and kept on disk by the matrix's
fingerprint: a run served from its results folder computes none, and a new run on the same
matrix reads them instead of running an LU and an SVD again. A run's rows ask for the tags
that cost one pass over the entries and for the factorizing ones (`FACTORING_TAGS`) that
their method's requirements name (`listed_tags`), no other."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator, Set
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from nnbench.corpus.tags import FACTORING_TAGS, TAG_CHECKS

T = TypeVar("T")
CACHE_ENV = "NNBENCH_CACHE"
DISK_MIN_ENTRIES = 1 << 16
"""Matrices with fewer entries keep their tags in memory only: checking them costs less than
reading a file (and the test suite's small matrices leave nothing in the user's cache)."""
PROGRESS_MIN_ENTRIES = 1 << 20
"""Matrices with at least this many entries (1024 x 1024, zeros of a sparse one included)
say on stderr what their preparation costs: reading, and inferring each tag."""


def cache_folder() -> Path:
    """Where nnbench keeps what it computed of users' matrices: $NNBENCH_CACHE, else
    $XDG_CACHE_HOME/nnbench, else ~/.cache/nnbench."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "nnbench"


@functools.cache
def checks_version() -> str:
    """A hash of the checks' source: editing a check retires the tags cached by the old one."""
    source = Path(__file__).with_name("tags.py").read_bytes()
    return hashlib.blake2b(source, digest_size=8).hexdigest()


def progress(message: str) -> None:
    """One line on stderr about a large matrix's preparation."""
    print(message, file=sys.stderr, flush=True)


class InferredTags(Set[str]):
    """The boolean tags of one fixed matrix `a`, a set as a family's `tags` is: `tag in tags`
    runs that tag's check alone, iterating runs every check (the row's `tags` column), each
    check at most once. `given` are tags that are not inferred (`image`: a picture file).
    Equal and hashed by (`fingerprint`, `given`), without running a check; `label` names the
    matrix in progress lines."""

    def __init__(
        self, a: np.ndarray, *, fingerprint: str, label: str, given: Iterable[str] = ()
    ) -> None:
        self.a = a
        self.fingerprint = fingerprint
        self.label = label
        self.given = frozenset(given)
        self._known: dict[str, bool] | None = None  # None: the disk not read yet

    def __contains__(self, tag: object) -> bool:
        if not isinstance(tag, str) or tag not in TAG_CHECKS:
            return False
        if tag in self.given or tag == "image":  # `image` is never inferred
            return tag in self.given
        return self._values([tag])[tag]

    def __iter__(self) -> Iterator[str]:
        return iter(self.held(TAG_CHECKS))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, InferredTags):
            return (self.fingerprint, self.given) == (other.fingerprint, other.given)
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash((self.fingerprint, self.given))

    @classmethod
    def _from_iterable(cls, it: Iterable[T]) -> frozenset[T]:
        """What set operations (`tags | {...}`) return: a frozenset of the result."""
        return frozenset(it)

    def __repr__(self) -> str:
        known = sorted(t for t, held in (self._known or {}).items() if held)
        return f"InferredTags({self.label!r}, known so far: {sorted(self.given) + known})"

    @property
    def _path(self) -> Path:
        return cache_folder() / "tags" / f"{self.fingerprint}.json"

    @property
    def _on_disk(self) -> bool:
        return self.a.size >= DISK_MIN_ENTRIES

    def _values(self, wanted: list[str]) -> dict[str, bool]:
        """The values of the `wanted` tags: from memory, else from disk, else checked (and then
        written to disk)."""
        if self._known is None:
            self._known = self._read() if self._on_disk else {}
        missing = [t for t in wanted if t not in self._known]
        if missing:
            seconds = {}
            for tag in missing:
                start = time.perf_counter()
                self._known[tag] = bool(TAG_CHECKS[tag](self.a))
                seconds[tag] = time.perf_counter() - start
            if self.a.shape[0] * self.a.shape[1] >= PROGRESS_MIN_ENTRIES:
                each = ", ".join(f"{tag} {s:.1f} s" for tag, s in seconds.items())
                progress(f"inferring tags of {self.label}: {each}")
            if self._on_disk:
                self._write()
        return self._known

    def held(self, wanted: Iterable[str]) -> list[str]:
        """Those of the `wanted` tags the matrix has, in `TAG_CHECKS` order: their checks
        alone run (each at most once)."""
        chosen = set(wanted)
        asked = [t for t in TAG_CHECKS if t in chosen]
        values = self._values([t for t in asked if t not in self.given and t != "image"])
        return [t for t in asked if t in self.given or values.get(t, False)]

    def _read(self) -> dict[str, bool]:
        try:
            stored: Any = json.loads(self._path.read_text())
        except (OSError, ValueError):  # absent or torn: check again
            return {}
        if not isinstance(stored, dict) or stored.get("checks") != checks_version():
            return {}
        values = stored.get("tags")
        if not isinstance(values, dict):
            return {}
        return {t: v for t, v in values.items() if t in TAG_CHECKS and isinstance(v, bool)}

    def _write(self) -> None:
        """Atomically (a reader sees the old file or the new one); a cache that cannot be
        written (a read-only home) costs the next run the checks, nothing more."""
        path = self._path
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"checks": checks_version(), "tags": self._known}))
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)


def listed_tags(tags: Set[str], asked: Iterable[str]) -> list[str]:
    """The tags a row lists, sorted: every tag a generated family declares (known without a
    check); of a matrix whose tags are inferred (`InferredTags`), those a pass over its
    entries decides and those of the factorizing ones (`FACTORING_TAGS`: Cholesky, LU, SVD)
    that `asked` (the row's method's requirements) names: a sparse preconditioner's row on an
    SPD file checks `spd`, never `needs_pivoting` or `singular`."""
    if not isinstance(tags, InferredTags):
        return sorted(tags)
    wanted = set(asked)
    return sorted(tags.held(t for t in TAG_CHECKS if t not in FACTORING_TAGS or t in wanted))
