"""Methods whose fit lies outside their timed call: a model trained, or a basis fitted, once
on other matrices before the cells (`train_time_s`), so that `time_s` is the application
alone. A table or figure that ranks such a method by `time_s` flags it with `untimed_label`
(or gives its seconds in an `UNTIMED_FIT` column), and a table's note says what the flag
means (`untimed_note`)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

UNTIMED_FIT = "untimed fit_s"  # a column: the seconds of a fit once before the cells
FLAG = ", untimed)"  # how `untimed_label` ends


def untimed_fits(results: pd.DataFrame) -> dict[str, float]:
    """method_base -> the median seconds of its untimed fit, for the methods with one."""
    if "train_time_s" not in results:
        return {}
    fitted = results[results.train_time_s.fillna(0.0) > 0.0]
    return {
        str(k): float(v) for k, v in fitted.groupby("method_base").train_time_s.median().items()
    }


def untimed_label(name: str, fits: dict[str, float], base: str | None = None) -> str:
    """`name` with its untimed fit stated where its method (`base`, default `name`) has one:
    "sketch-pca (fit 0.13 s, untimed)"."""
    seconds = fits.get(name if base is None else base)
    return name if seconds is None else f"{name} (fit {seconds:.2g} s{FLAG}"


def untimed_labels(results: pd.DataFrame) -> Callable[[str], str]:
    """`untimed_label` for a method's name in `results` (a variant's fit found by its
    `method_base`)."""
    fits = untimed_fits(results)
    base = dict(zip(results.method, results.method_base, strict=True))
    return lambda name: untimed_label(name, fits, base.get(name, name))


def untimed_note(table: pd.DataFrame) -> str:
    """What a table's untimed flags mean, once: where a name in it carries `untimed_label`'s
    flag or it has an `UNTIMED_FIT` column; "" where it has neither."""
    words = table.select_dtypes(exclude="number").astype(str)
    flagged = any(words[c].str.contains(FLAG, regex=False).any() for c in words.columns)
    said = []
    if flagged:
        said.append(
            "(fit T s, untimed): the method's basis or model was fitted once, on other "
            "matrices, before the cells, in T seconds that its times leave out (they are "
            "its application alone)."
        )
    if UNTIMED_FIT in table.columns:
        said.append(
            f"{UNTIMED_FIT}: the seconds of a method's fit once before the cells, on other "
            "matrices, that its times leave out."
        )
    return " ".join(said)
