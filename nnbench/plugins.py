"""Plug-ins: methods, matrix families and studies from outside the package, built from the
public API (`nnbench.api`). A plug-in is a Python file or an importable module whose
module-level `NNBENCH_METHODS` (and optionally `NNBENCH_FAMILIES`, `NNBENCH_STUDIES`) lists
them. `nnbench run|list|check --plugin PATH.py|MODULE` loads one; those commands load the
installed distributions that declare the entry-point group `nnbench` on their own.

Loading registers a plug-in's objects in the one registry of their kind (`METHODS`,
`MATRIX_FAMILIES`, `STUDIES`), each method marked with its source (`Method.source`, the rows'
`method_source`), and records the plug-in (`sources.PLUGINS`, which run.json lists with the
sha256 of its file). Anything wrong with a plug-in (a missing file, an error in its code, a
name nnbench already has, an entry that is not a method) is one NNBenchError that names the
file and line, raised before anything of it is registered.

A file runs as the module `nnbench_plugin_<its file name>`, without its folder on sys.path (a
plug-in with modules of its own is a package: `--plugin MODULE`). Local worker processes
(`--jobs`: fork) inherit what is loaded; dask workers (`--scheduler`) get a plug-in's methods
by importing their module, so a plug-in run there must be an installed module (a file is
refused, see `check_execution`)."""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import re
import sys
import traceback
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, TypeVar

from nnbench.corpus import MATRIX_FAMILIES, TAG_CHECKS, MatrixFamily
from nnbench.errors import NNBenchError
from nnbench.methods import GROUPS, KINDS, METHODS, Method
from nnbench.methods.base import BACKENDS
from nnbench.running.executors import START_METHOD, Execution
from nnbench.sources import NNBENCH, PLUGINS, LoadedFrom, Plugin, installed_plugins
from nnbench.studies import STUDIES, Study, check_section_names

T = TypeVar("T")

FILE_MODULE = "nnbench_plugin_"
"""The prefix of the module name a plug-in file runs under."""
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
"""A plug-in's method, family or study name: one a selector reads whole (no comma, bracket,
colon, space or leading `+`)."""
DOCS = "see docs/plugins.md"


def load_plugins(specs: Sequence[str] = (), *, installed: bool = True) -> list[Plugin]:
    """The installed plug-ins (entry points of the group `nnbench`) unless not `installed`,
    then each of `specs`: a file's path (ends in `.py` or holds a `/`) or a module's name.
    Each is loaded once per process (again: the same `Plugin`). Raises NNBenchError."""
    loaded = [load_entry_point(ep) for ep in installed_plugins()] if installed else []
    loaded += [load_plugin(spec) for spec in specs]
    return list(dict.fromkeys(loaded))


def is_file(spec: str) -> bool:
    """Whether `--plugin SPEC` names a file (else a module)."""
    return spec.endswith(".py") or "/" in spec or "\\" in spec


def load_plugin(spec: str) -> Plugin:
    """One plug-in: a file's path or a module's name (see `load_plugins`)."""
    return _load_file(Path(spec)) if is_file(spec) else _load_module(spec)


def load_entry_point(entry: EntryPoint) -> Plugin:
    """The plug-in an installed distribution declares: `name = "module"` in its entry-point
    group `nnbench`."""
    dist = entry.dist
    name, version = (dist.name, dist.version) if dist is not None else ("", "")
    where = f"entry point {entry.name!r} of {name or 'an installed distribution'} {version}"
    if entry.attr:
        raise NNBenchError(
            f"{where.strip()} names {entry.value!r}, not a module",
            f"point it at the plug-in's module ({entry.module!r}); {DOCS}",
        )
    return _load_module(entry.module, distribution=name, version=version)


def _sha256(path: Path | None) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path and path.is_file() else ""


def _load_file(path: Path) -> Plugin:
    at = f"plug-in {str(path)!r}"
    if not path.exists():
        raise NNBenchError(f"{at} does not exist", "check the path (a module's name has no .py)")
    if not path.is_file():
        raise NNBenchError(f"{at} is not a file", "give a .py file, or a package's module name")
    resolved = path.resolve()
    if str(resolved) in PLUGINS:
        return PLUGINS[str(resolved)]
    name = FILE_MODULE + re.sub(r"\W", "_", resolved.stem)
    same = next((p for p in PLUGINS.values() if p.module == name), None)
    if same is not None or name in sys.modules:
        other = repr(same.path) if same is not None else f"module {name!r}"
        raise NNBenchError(
            f"{at} has the file name of {other}, already loaded", "rename one of the two files"
        )
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise NNBenchError(f"{at} is not a Python file", "give a .py file")
    loader, module = spec.loader, importlib.util.module_from_spec(spec)
    # in sys.modules while it runs and after: dataclasses look their module up, and its
    # objects pickle by reference to it (to --jobs workers, which fork with it loaded)
    sys.modules[name] = module
    try:
        _execute(lambda: loader.exec_module(module), at, resolved)
        return _register(module, at, label=str(resolved), loaded_from="file", path=resolved)
    except BaseException:
        del sys.modules[name]
        raise


NOT_IMPORTABLE = "install it, or put its folder on PYTHONPATH (a plug-in file's path ends in .py)"


def _load_module(name: str, *, distribution: str = "", version: str = "") -> Plugin:
    if name in PLUGINS:
        return PLUGINS[name]
    at = f"plug-in module {name!r}"
    if distribution:
        at += f" (of {distribution} {version}, entry point group nnbench)"
    found = _execute(lambda: importlib.util.find_spec(name), at, None, module=name)
    if found is None:
        raise NNBenchError(f"{at} is not importable", NOT_IMPORTABLE)
    path = Path(found.origin) if found.origin and found.has_location else None
    module = _execute(lambda: importlib.import_module(name), at, path, module=name)
    return _register(
        module,
        at,
        label=f"{name} ({distribution} {version})" if distribution else name,
        loaded_from="entry point" if distribution else "module",
        path=path,
        distribution=distribution,
        version=version,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _execute(run: Callable[[], T], at: str, path: Path | None, *, module: str = "") -> T:
    """`run()`, with an error in the plug-in's code as one NNBenchError that names the file
    and the line (the plug-in's own line where the error came from deeper); `module`: the
    plug-in's module name, when it is the module that cannot be found."""
    fix = f"fix the plug-in; {DOCS}"
    try:
        return run()
    except SyntaxError as exc:
        own = path is not None and exc.filename == str(path)
        place = f"line {exc.lineno}" if own else f"{exc.filename}, line {exc.lineno}"
        raise NNBenchError(f"{at}, {place}: SyntaxError: {exc.msg}", fix) from None
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        lines = [f.lineno for f in frames if path is not None and f.filename == str(path)]
        missing = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
        if missing and not lines and (module == missing or module.startswith(missing + ".")):
            problem = f"{at} is not importable ({_first_line(exc)})"
            raise NNBenchError(problem, NOT_IMPORTABLE) from None
        place = f", line {lines[-1]}" if lines else ""
        raise NNBenchError(f"{at}{place}: {_first_line(exc)}", fix) from None


def _assigned_line(path: Path | None, variable: str) -> str:
    """ ", line N" of the module-level assignment of `variable` in the file, or ""."""
    try:
        tree = ast.parse(path.read_text()) if path is not None else None
    except (OSError, SyntaxError, ValueError):
        tree = None
    for node in tree.body if tree is not None else ():
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == variable for t in targets):
            return f", line {node.lineno}"
    return ""


ENTRIES: dict[str, tuple[type, str, str]] = {
    "NNBENCH_METHODS": (Method, "method", "LibraryMethod(...) or a Method subclass's instance"),
    "NNBENCH_FAMILIES": (MatrixFamily, "matrix family", "MatrixFamily(...)"),
    "NNBENCH_STUDIES": (Study, "study", "Study(...)"),
}
"""What a plug-in lists: each variable's type, what it holds in words and how one is built
(with nnbench.api)."""


def _entries(module: types.ModuleType, variable: str, at: str, path: Path | None) -> list[Any]:
    """The objects the plug-in lists in `variable`, each checked to be of its type."""
    kind, words, built = ENTRIES[variable]
    if not hasattr(module, variable):
        if variable != "NNBENCH_METHODS":
            return []
        raise NNBenchError(
            f"{at} defines no NNBENCH_METHODS",
            f"add NNBENCH_METHODS = [...], a list of methods built from nnbench.api; {DOCS}",
        )
    value = getattr(module, variable)
    at = f"{at}{_assigned_line(path, variable)}: {variable}"
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise NNBenchError(
            f"{at} is {_a(value)}, not a list", f"make it a list of {words} objects; {DOCS}"
        )
    items = list(value)
    for i, item in enumerate(items):
        if isinstance(item, type) and issubclass(item, kind):
            raise NNBenchError(
                f"{at}[{i}] is the class {item.__name__}, not a {words}",
                f"list an instance: {item.__name__}(...)",
            )
        if not isinstance(item, kind):
            raise NNBenchError(
                f"{at}[{i}] is {_a(item)}, not a {words}",
                f"build it with nnbench.api: {built}; {DOCS}",
            )
    return items


def _a(value: Any) -> str:
    """What an object is, in words: "a function", "the class MyLU", "a str"."""
    if isinstance(value, types.FunctionType):
        return f"the function {value.__name__}"
    return f"a {type(value).__name__}"


def _owner(
    what: str, name: str, registry: Mapping[str, Any], names: Callable[[Plugin], Sequence[str]]
) -> str:
    """Whose `what` `name` is already ("a method of nnbench"), or "" where it is free."""
    if name not in registry:
        return ""
    plugin = next((p for p in PLUGINS.values() if name in names(p)), None)
    return f"a {what} of " + (f"plug-in {plugin.label}" if plugin is not None else NNBENCH)


def _check_name(what: str, name: object, taken: str, mine: list[str], at: str) -> None:
    """A plug-in's object's name: one a selector reads, nobody's yet, listed once."""
    if not isinstance(name, str) or not NAME.match(name):
        raise NNBenchError(
            f"{at}: {what} name {name!r} cannot be selected",
            "name it with letters, digits, '.', '_' and '-', starting with a letter or digit",
        )
    if taken or name in mine:
        raise NNBenchError(
            f"{at}: {what} name {name!r} is already {taken or 'listed before'}",
            f"rename the plug-in's {what}",
        )
    mine.append(name)


def _check_methods(methods: list[Method], at: str) -> None:
    names: list[str] = []
    for method in methods:
        name = getattr(method, "name", None)
        taken = _owner("method", str(name), METHODS, lambda p: p.methods)
        if name in (*GROUPS, "all"):
            taken = "a selector of a group of methods"
        _check_name("method", name, taken, names, at)
        for attribute, allowed in (("kind", KINDS), ("group", GROUPS), ("backend", BACKENDS)):
            value = getattr(method, attribute, None)
            if value not in allowed:
                raise NNBenchError(
                    f"{at}: method {name!r} has {attribute} {value!r}",
                    f"use one of {', '.join(allowed)}",
                )


def _check_families(families: list[MatrixFamily], at: str) -> None:
    names: list[str] = []
    for family in families:
        taken = _owner("matrix family", family.name, MATRIX_FAMILIES, lambda p: p.families)
        _check_name("matrix family", family.name, taken, names, at)
        unknown = sorted(set(family.tags) - set(TAG_CHECKS))
        if unknown:
            raise NNBenchError(
                f"{at}: matrix family {family.name!r} has the unknown tag {unknown[0]!r}",
                f"use tags of {', '.join(TAG_CHECKS)}",
            )


def _register(
    module: types.ModuleType,
    at: str,
    *,
    label: str,
    loaded_from: LoadedFrom,
    path: Path | None,
    distribution: str = "",
    version: str = "",
) -> Plugin:
    """Check every object the plug-in lists, then register them all (or, on an error, none)."""
    methods: list[Method] = _entries(module, "NNBENCH_METHODS", at, path)
    families: list[MatrixFamily] = _entries(module, "NNBENCH_FAMILIES", at, path)
    studies: list[Study] = _entries(module, "NNBENCH_STUDIES", at, path)
    _check_methods(methods, f"{at}{_assigned_line(path, 'NNBENCH_METHODS')}")
    _check_families(families, f"{at}{_assigned_line(path, 'NNBENCH_FAMILIES')}")
    study_names: list[str] = []
    for study in studies:
        taken = _owner("study", study.name, STUDIES, lambda p: p.studies)
        where = f"{at}{_assigned_line(path, 'NNBENCH_STUDIES')}"
        _check_name("study", study.name, taken, study_names, where)
    check_section_names(studies, f"{at}{_assigned_line(path, 'NNBENCH_STUDIES')}")
    plugin = Plugin(
        label=label,
        loaded_from=loaded_from,
        module=module.__name__,
        path=str(path or ""),
        sha256=_sha256(path),
        distribution=distribution,
        version=version,
        methods=tuple(m.name for m in methods),
        families=tuple(f.name for f in families),
        studies=tuple(s.name for s in studies),
    )
    for method in methods:
        object.__setattr__(method, "source", label)  # a frozen dataclass's too
        METHODS[method.name] = method
    MATRIX_FAMILIES.update((f.name, f) for f in families)
    STUDIES.update((s.name, s) for s in studies)
    PLUGINS[str(path) if loaded_from == "file" else module.__name__] = plugin
    return plugin


def unload(plugin: Plugin) -> None:
    """Take a plug-in's objects out of the registries and forget it, so that loading it again
    runs its file again (a notebook after an edit; tests)."""
    for name in plugin.methods:
        METHODS.pop(name, None)
    for name in plugin.families:
        MATRIX_FAMILIES.pop(name, None)
    for name in plugin.studies:
        STUDIES.pop(name, None)
    for key in [k for k, p in PLUGINS.items() if p == plugin]:
        del PLUGINS[key]
    if plugin.loaded_from == "file":
        sys.modules.pop(plugin.module, None)


def check_execution(execution: Execution) -> None:
    """Refuse to send a plug-in file's cells to processes that cannot import it: a dask
    cluster's workers, or local workers that start fresh (spawn, off Linux)."""
    files = [p for p in PLUGINS.values() if p.loaded_from == "file"]
    fresh = execution.executor == "dask" or (
        execution.executor == "processes" and START_METHOD != "fork"
    )
    if files and fresh:
        where = "dask workers" if execution.executor == "dask" else "worker processes"
        raise NNBenchError(
            f"{where} cannot import the plug-in file {files[0].path!r}",
            "install the plug-in as a module there (an `nnbench` entry point, or --plugin "
            "MODULE on their PYTHONPATH), or run without --scheduler",
        )
