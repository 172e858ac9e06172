"""Method variants from the command line: `NAME[key=value,...]` changes a trained method's
options (its config dataclass), e.g. `neural-lu-study-final[optimizer=sgd,lr=0.01]`."""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from typing import Any, cast

from nnbench.errors import NNBenchError
from nnbench.methods.base import Method

# The term syntax lives with the selector loop (the command line reads it without loading
# any method); the registry takes it from here.
from nnbench.selection import parse_term as parse_term
from nnbench.selection import split_terms as split_terms


def _parse(text: str, current: object) -> object:
    """The option's value, read by the type of its current value."""
    if text.lower() == "none":
        return None
    if isinstance(current, bool):
        if text.lower() not in ("true", "false"):
            raise NNBenchError(f"{text!r} is not true/false", "write true or false")
        return text.lower() == "true"
    for kind in (int, float):
        try:
            value = kind(text)
        except ValueError:
            continue
        # an int option accepts 1e3; a float option accepts 1
        return int(value) if isinstance(current, int) and value == int(value) else value
    return text


def _format(value: object) -> str:
    """An option's value as a name shows it: 0.01, a tuple of names as "a+b"."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "+".join(map(_format, value))
    return str(value)


def with_options(method: Method, options: dict[str, str]) -> Method:
    """A copy of `method` with its config changed; named by the options that differ."""
    config = method.config
    if not options:
        return method
    if config is None or not is_dataclass(config):
        raise NNBenchError(
            f"{method.name} has no options",
            "drop the [...]; methods with a budget take them, e.g. torch-rsvd[niter=4]",
        )
    known = [f.name for f in fields(config)]
    for key in options:
        if key not in known:
            raise NNBenchError(f"{method.name} has no option {key!r}", f"use {', '.join(known)}")
    changes = {key: _parse(text, getattr(config, key)) for key, text in options.items()}
    try:
        new = replace(cast(Any, config), **changes)  # the config validates itself
    except (TypeError, ValueError) as exc:
        raise NNBenchError(f"bad options for {method.name}: {exc}", "check the values") from None
    spec = ",".join(
        f"{key}={_format(getattr(new, key))}"
        for key in known
        if getattr(new, key) != getattr(config, key)
    )
    if not spec:
        return method
    variant = method.with_config(new)
    variant.name = f"{method.name}[{spec}]"
    variant.options = spec
    variant.base = method.base_name
    return variant
