"""Point Terraform at a local filesystem mirror of hashicorp/aws when one exists, else the registry.

Chosen by environment, never by editing code:
- TAP_PROVIDER_SOURCE = auto (default) | mirror | registry
- TAP_PROVIDER_MIRROR = a mirror directory (the one holding `registry.terraform.io/`);
  without it, `auto` searches Terraform's implicit plugin directories and the top-level
  folders of a few common prefixes for a mirror that holds hashicorp/aws at our pinned version.
The generated CLI config lives in `.terraform.d/` inside the project (gitignored) and adds a
plugin cache, so the ~700 MB provider is not copied again on every `terraform init`.
"""

from __future__ import annotations

import os
import platform
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"
AWS_PROVIDER_VERSION = "5.100.0"
LOCK_FILE = PROJECT_ROOT / ".terraform.lock.hcl"
STATE_DIR = PROJECT_ROOT / ".terraform.d"
# Terraform's own implicit local mirror locations, plus prefixes images often unpack mirrors under.
IMPLICIT_DIRS = (
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)
SEARCH_PREFIXES = ("/opt", "/usr/local/share", "/usr/share", "/srv")


class ToolchainError(RuntimeError):
    pass


def os_arch() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{platform.system().lower()}_{arch}"


def _holds_provider(root: Path) -> bool:
    return (root / AWS_PROVIDER / AWS_PROVIDER_VERSION / os_arch()).is_dir()


def _candidates() -> Iterator[Path]:
    for entry in IMPLICIT_DIRS:
        yield Path(entry).expanduser()
    for prefix in SEARCH_PREFIXES:
        base = Path(prefix)
        if base.is_dir():
            try:
                yield from sorted(p for p in base.iterdir() if p.is_dir())
            except PermissionError:
                continue


def find_mirror(env: Mapping[str, str]) -> Path | None:
    explicit = env.get("TAP_PROVIDER_MIRROR")
    if explicit:
        path = Path(explicit).expanduser()
        if not _holds_provider(path):
            raise ToolchainError(
                f"TAP_PROVIDER_MIRROR={explicit} holds no {AWS_PROVIDER} {AWS_PROVIDER_VERSION} for {os_arch()}; "
                "point it at the folder that contains registry.terraform.io/, or unset it"
            )
        return path
    return next((p for p in _candidates() if _holds_provider(p)), None)


def terraform_binary(env: Mapping[str, str]) -> str:
    binary = env.get("TAP_TERRAFORM_BINARY") or shutil.which("terraform")
    if not binary:
        raise ToolchainError("terraform is not on PATH; install Terraform >= 1.5 or set TAP_TERRAFORM_BINARY")
    return binary


def cli_config(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Write the CLI config for this machine and return the environment variables to run Terraform with."""
    env = os.environ if env is None else env
    source = env.get("TAP_PROVIDER_SOURCE", "auto")
    if source not in ("auto", "mirror", "registry"):
        raise ToolchainError(f"TAP_PROVIDER_SOURCE={source!r}: use auto, mirror or registry")
    mirror = None if source == "registry" else find_mirror(env)
    if source == "mirror" and mirror is None:
        raise ToolchainError(
            f"TAP_PROVIDER_SOURCE=mirror but no mirror of {AWS_PROVIDER} {AWS_PROVIDER_VERSION} was found; "
            "set TAP_PROVIDER_MIRROR"
        )
    cache = STATE_DIR / "plugin-cache"
    cache.mkdir(parents=True, exist_ok=True)
    lines = [f'plugin_cache_dir = "{cache}"', "disable_checkpoint = true"]
    if mirror is not None:
        lines += [
            "provider_installation {",
            "  filesystem_mirror {",
            f'    path    = "{mirror}"',
            f'    include = ["{AWS_PROVIDER}"]',
            "  }",
            "  direct {",
            f'    exclude = ["{AWS_PROVIDER}"]',
            "  }",
            "}",
        ]
    config_file = STATE_DIR / "cli-config.tfrc"
    config_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {
        "TF_CLI_CONFIG_FILE": str(config_file),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
        "TAP_PROVIDER_ORIGIN": f"mirror:{mirror}" if mirror else "registry",
    }


def prepare_workdir(stack_dir: Path) -> None:
    """Give a synthesized stack the committed provider lock file, so init verifies the same provider.

    Also forget the backend the directory was last initialised with: the local state path differs
    per target (.state/<target>-<prefix>.tfstate), and a stale pointer makes init stop with
    "Backend configuration changed". Only the pointer goes; state files are never touched.
    """
    if LOCK_FILE.is_file():
        shutil.copyfile(LOCK_FILE, stack_dir / ".terraform.lock.hcl")
    (stack_dir / ".terraform" / "terraform.tfstate").unlink(missing_ok=True)


if __name__ == "__main__":
    # `eval "$(python -m tools.terraform_cli)"` exports the variables into a shell.
    for key, value in cli_config().items():
        print(f"export {key}={value!r}")
