"""A trained method's settings as results columns: written by the methods, stored by the
results record. Shared below both so that the results need no method (and no torch)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Settings:
    """A trained method's settings as results columns (classical methods leave them empty).
    `lr` is the step size used (NaN where none is), `lr_rule` the rule that chose it; `loss`
    says what the training loss (hence `final_loss`) measures: losses of different
    definitions are not comparable. `trained_on`: the families an amortized model was
    trained on ("+"-joined), before it met the cell's matrix; `parameters`: its model size
    (trainable parameters; NaN where not stated)."""

    optimizer: str = ""
    switch_to: str = ""
    lr: float = math.nan
    lr_rule: str = ""
    init: str = ""
    data_size: float = math.nan
    loss: str = ""
    trained_on: str = ""
    parameters: float = math.nan
