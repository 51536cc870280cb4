"""`python -m lib.config --write | --check`: regenerate, or check, the JSON Schema and the README tables.

A package entry point: running `lib.config.schema` itself with -m would import it twice (once through
the package, once as __main__).
"""

import sys

from lib.config.schema import main

sys.exit(main())
