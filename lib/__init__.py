"""tap-migrate: a CDKTF app that provisions and drives a zero-downtime database migration."""

from lib import provider_import

# Before any construct module imports provider classes: skip the provider package's
# 1,500-module __init__ (see lib/provider_import.py).
provider_import.install()
