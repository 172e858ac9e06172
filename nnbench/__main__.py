import sys

from nnbench.cli import main

sys.exit(main())
