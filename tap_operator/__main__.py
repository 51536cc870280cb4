"""``python -m tap_operator`` is the operator CLI."""

import sys

from .cli import main

sys.exit(main())
