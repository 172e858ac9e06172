"""Where a method, a matrix family or a study comes from: nnbench itself, or a plug-in (a
Python file or module outside the package; `nnbench.plugins` loads them). Shared below every
stage: a results row names its method's source (`Method.source`), and the run's provenance
(run.json) lists every plug-in loaded, with the sha256 of its file."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Literal

NNBENCH = "nnbench"
"""The source of everything the package ships."""

LoadedFrom = Literal["file", "module", "entry point"]


@dataclass(frozen=True, kw_only=True)
class Plugin:
    """A loaded plug-in. `label` is how rows and listings name it: its file's absolute path,
    or its module with the distribution that installed it ("mypkg.methods (mypkg 0.1)");
    `module` the name its code runs under (a file's: `nnbench_plugin_<file name>`, so that
    moving the file changes no fingerprint); `path` and `sha256` its file's (a package: its
    `__init__.py`); `methods`, `families` and `studies` the names it registered."""

    label: str
    loaded_from: LoadedFrom
    module: str
    path: str
    sha256: str
    distribution: str = ""
    version: str = ""
    methods: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    studies: tuple[str, ...] = ()

    def record(self) -> dict[str, Any]:
        """The plug-in as run.json holds it."""
        return asdict(self)


PLUGINS: dict[str, Plugin] = {}
"""Every plug-in loaded in this process, by its file's resolved path or its module's name."""


ENTRY_POINT_GROUP = "nnbench"


def installed_plugins() -> list[EntryPoint]:
    """The entry points of installed distributions in the group `nnbench`: plug-ins the
    command line loads on its own (looked up in milliseconds, without loading them)."""
    return list(entry_points(group=ENTRY_POINT_GROUP))
