"""The deployment files stay true to the code: units verify, the image gets every package."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
from setuptools import find_namespace_packages

from bot.config import load_settings, read_dotenv
from bot.emulator.api import TEST_TOKEN
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_units_verify_cleanly(tmp_path: Path) -> None:
    # verify insists that ExecStart= binaries exist: point the install prefix at a folder
    # holding a python, and change nothing else.
    install = tmp_path / "opt"
    (install / ".venv" / "bin").mkdir(parents=True)
    (install / ".venv" / "bin" / "python").symlink_to(sys.executable)
    units = []
    for unit in sorted((DEPLOY / "systemd").iterdir()):
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace("/opt/baclofen-bot", str(install)))
        units.append(str(copy))
    assert SYSTEMD_ANALYZE is not None
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", *units], capture_output=True, text=True, timeout=120
    )
    # verify exits 0 on unknown or malformed settings too, and only warns: demand silence.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_image_installs_every_file_of_the_bot() -> None:
    """``pip install .`` in the Dockerfile ships what setuptools finds and the package data
    patterns match: every folder of bot/ must be found and every file in it matched (a new
    kind of data file, say .json, needs its pattern in pyproject.toml)."""
    setuptools = pyproject()["tool"]["setuptools"]
    find = setuptools["packages"]["find"]
    found = set(
        find_namespace_packages(where=str(ROOT), include=find["include"], exclude=find["exclude"])
    )
    [patterns] = setuptools["package-data"].values()
    files = [
        path
        for path in (ROOT / "bot").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert files
    for path in files:
        package = ".".join(path.parent.relative_to(ROOT).parts)
        assert package in found, f"setuptools does not find the package {package}"
        shipped = path.suffix == ".py" or any(fnmatch(path.name, p) for p in patterns)
        assert shipped, f"no package-data pattern in pyproject.toml matches {path}"


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_dockerfile_copies_what_exists_and_checks_health_with_the_bot() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    sources = [
        source
        for line in re.findall(r"^COPY (?!--from)(.+)$", dockerfile, flags=re.MULTILINE)
        for source in line.split()[:-1]
    ]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which is gone"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert not set(sources) & set(ignored), "the Dockerfile copies a path .dockerignore drops"
    assert re.search(r'HEALTHCHECK .*\n?.*CMD \["python", "-m", "bot", "check"\]', dockerfile)
    assert re.search(r"^USER (?!root)\w+$", dockerfile, flags=re.MULTILINE)
    # The content pack is inside the installed package; the image needs no copy of it.
    assert "CONTENT_DIR" not in dockerfile


def test_env_example_is_a_valid_configuration_once_the_token_is_filled_in() -> None:
    values = read_dotenv(ROOT / ".env.example")
    assert values["TELEGRAM_BOT_TOKEN"] == ""
    settings = load_settings(environ={**values, "TELEGRAM_BOT_TOKEN": TEST_TOKEN}, dotenv_path=None)
    assert settings.bot_mode == "polling"
    assert TEST_TOKEN not in repr(settings)
