"""Methods whose fit lies outside their timed call: a model trained, or a basis fitted, once
on other matrices before the cells (`train_time_s`), so that `time_s` is the application
alone. A table or figure that ranks such a method by `time_s` flags it with `untimed_label`."""

from __future__ import annotations

import pandas as pd


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
    return name if seconds is None else f"{name} (fit {seconds:.2g} s, untimed)"
