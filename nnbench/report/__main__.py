"""`python -m nnbench.report [--results DIR ...] [--out DIR]`: the same as `nnbench report`."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from nnbench.cli import main as cli_main


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main(["report", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
