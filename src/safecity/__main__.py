"""``python -m safecity``."""

import sys

from safecity.cli import main

sys.exit(main())
