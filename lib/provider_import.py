"""Import only the provider submodules a stack uses.

`import cdktf_cdktf_provider_aws` executes a package `__init__` that imports ~1,500 resource
modules (≈ 10 s on 2 cores). Each submodule only needs the package's `_jsii` assembly
loader, so we register the package object without executing its `__init__` and let Python
import the submodules we name. If the package layout ever differs from that assumption, we
fall back to the plain import: slower, never wrong. Set TAP_PROVIDER_FAST_IMPORT=0 to force
the plain path (a unit test compares both paths' synthesized JSON byte for byte).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType

PACKAGE = "cdktf_cdktf_provider_aws"


def fast_import_enabled() -> bool:
    return os.environ.get("TAP_PROVIDER_FAST_IMPORT", "1") != "0"


def _register_package_without_init() -> bool:
    if PACKAGE in sys.modules:
        return True
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return False
    # Not find_spec("<pkg>._jsii"): that would import the parent package, the very cost we skip.
    if not any(os.path.isfile(os.path.join(p, "_jsii", "__init__.py")) for p in spec.submodule_search_locations):
        return False
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    return True


def install() -> bool:
    """Make later `from cdktf_cdktf_provider_aws.<x> import Y` statements skip the package `__init__`.

    Returns whether the fast path is active. Call before any provider import.
    """
    return fast_import_enabled() and _register_package_without_init()


def provider_module(name: str) -> ModuleType:
    """Return `cdktf_cdktf_provider_aws.<name>`, importing as little as possible."""
    if not install():
        importlib.import_module(PACKAGE)
    return importlib.import_module(f"{PACKAGE}.{name}")
