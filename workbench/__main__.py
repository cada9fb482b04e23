"""``python -m workbench ...``: the ``workbench`` command, where the console script is not on PATH."""

import sys

from workbench.cli import main

sys.exit(main())
