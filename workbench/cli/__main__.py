"""``python -m workbench.cli ...``: the ``workbench`` command, as ``python -m workbench`` runs it."""

import sys

from workbench.cli import main

sys.exit(main())
