"""``python -m tap_cutover`` is the operator CLI."""

import sys

from .cli import main

sys.exit(main())
