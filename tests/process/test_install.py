"""``pip install .`` gives a bot that runs from any folder: the content pack and the demo's page
ship inside the package.

The wheel is built from the checkout and installed without its dependencies into a fresh venv
that borrows them from the test environment (so nothing is downloaded), then started from an
empty folder with no CONTENT_DIR and no checkout on the path.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from aiohttp import ClientSession

from bot.emulator.api import TEST_TOKEN, FakeBotAPI
from bot.storage.db import migration_versions
from tests.conftest import ROOT

pytestmark = pytest.mark.process


class Built:
    """The wheel built from a copy of the checkout, and what the build printed."""

    def __init__(self, base: Path, wheel: Path, log: str) -> None:
        self.base = base
        self.wheel = wheel
        self.log = log


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("install")
    wheels = base / "wheels"
    # Built from a copy: an in-tree build leaves build/ behind, whose stale files would end up
    # in later wheels.
    source = base / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "bot", source / "bot", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    # Verbose, so that setuptools' own warnings (hidden by a quiet pip) are in the log.
    pip = [sys.executable, "-m", "pip", "--verbose", "--disable-pip-version-check"]
    log = subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(wheels), source],
        check=True,
        timeout=300,
        cwd=base,
        capture_output=True,
        text=True,
    )
    [wheel] = wheels.glob("*.whl")
    return Built(base, wheel, log.stdout + log.stderr)


def test_the_build_declares_every_package_it_ships(built: Built) -> None:
    # The data folders (bot/pack/en, bot/storage/migrations, ...) are packages to setuptools;
    # left out of the configuration, each costs a screenful of "Package would be ignored".
    assert "running build_py" in built.log  # setuptools' own output is in the log
    assert "would be ignored" not in built.log.lower()
    assert "absent from the `packages` configuration" not in built.log


def test_the_wheel_holds_every_file_of_bot_and_no_bytecode(built: Built) -> None:
    names = set(zipfile.ZipFile(built.wheel).namelist())
    shipped = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "bot").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert {
        "bot/pack/pack.toml",
        "bot/pack/concepts/rules.toml",
        "bot/pack/en/messages.toml",
        "bot/pack/ru/messages.toml",
        "bot/storage/migrations/0001_users.sql",
        "bot/emulator/static/index.html",
        "bot/storage/db.py",
    } <= shipped
    assert shipped <= names, sorted(shipped - names)
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


@pytest.fixture(scope="module")
def installed(built: Built) -> Path:
    """The python of a fresh venv with the wheel installed; returns its interpreter."""
    base, wheel = built.base, built.wheel
    pip = [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check"]
    target = base / "venv"
    venv.create(target, with_pip=False)
    python = target / "bin" / "python"
    # The dependencies, borrowed as a plain path entry: the test environment's own .pth files
    # (its editable install of this checkout among them) are not read.
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "borrowed_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # Without PYTHONPATH: a checkout on it that holds an editable install's egg-info (make test
    # leaves one) looks to pip like this version installed already, and it would skip the wheel.
    outside = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=300,
        env=outside,
    )
    return python


def clean_env(**values: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", **values}


def run_installed(python: Path, script: str, folder: Path) -> str:
    """What ``script`` prints, run by the installed interpreter in ``folder`` (not the
    checkout) with a clean environment."""
    return subprocess.run(
        [python, "-c", script],
        check=True,
        capture_output=True,
        text=True,
        cwd=folder,
        env=clean_env(),
    ).stdout


def test_the_installed_package_is_the_wheel_not_the_checkout(
    installed: Path, tmp_path: Path
) -> None:
    where = run_installed(
        installed,
        "import bot, bot.config as c; print(bot.__file__, c.default_content_dir())",
        tmp_path,
    )
    module, pack = where.split()
    venv_root = str(installed.parent.parent)
    assert module.startswith(venv_root), module
    assert pack.startswith(venv_root), pack
    assert not module.startswith(str(ROOT / "bot"))


def test_the_installed_package_loads_its_pack_migrations_and_page(
    installed: Path, tmp_path: Path
) -> None:
    script = (
        "import json; from importlib import resources; import bot.config as c;"
        " from bot.content import load_library; from bot.storage.db import migration_versions;"
        " library = load_library(c.default_content_dir());"
        " page = resources.files('bot.emulator').joinpath('static');"
        " print(json.dumps([list(library.languages), migration_versions(),"
        " sorted(p.name for p in page.iterdir())]))"
    )
    out = run_installed(installed, script, tmp_path)
    languages, migrations, page = json.loads(out)
    assert languages == ["en", "ru"]
    assert migrations == migration_versions()  # every migration of the checkout, none lost
    assert page == sorted(path.name for path in (ROOT / "bot" / "emulator" / "static").iterdir())


async def test_installed_bot_runs_from_an_empty_folder(
    installed: Path, tmp_path: Path, api: FakeBotAPI
) -> None:
    empty = tmp_path / "anywhere"
    empty.mkdir()
    process = await asyncio.create_subprocess_exec(
        installed,
        "-m",
        "bot",
        cwd=empty,
        env=clean_env(TELEGRAM_BOT_TOKEN=TEST_TOKEN, TELEGRAM_API_BASE_URL=api.url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await api.wait_until_polling(timeout=30)
        api.send_text(4242, "/halflife")
        [reply] = await api.wait_for(
            "sendMessage", lambda call: call.params["chat_id"] == 4242, timeout=10
        )
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, stderr.decode()
    assert "Source:" in reply.params["text"]  # the shipped pack's fact, with its source
    assert (empty / "data" / "bot.sqlite3").is_file()


async def test_installed_demo_serves_its_page(installed: Path, tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        installed,
        "-m",
        "bot",
        "demo",
        "--port",
        "0",
        cwd=tmp_path,
        env=clean_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(60):
            line = (await process.stdout.readline()).decode()
        match = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        assert match, line
        async with ClientSession() as session:
            for path in ("", "static/chat.js", "static/chat.css"):
                async with session.get(match.group(1) + path) as response:
                    assert response.status == 200, path
                    assert await response.text()
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, stderr.decode()
