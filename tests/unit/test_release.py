"""The version in pyproject.toml is the newest released section of CHANGELOG.md (CONTRIBUTING.md,
"Cut a release"): a tag and its changelog cannot drift apart."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RELEASE = re.compile(r"^## (\d+\.\d+\.\d+) — (\d{4}-\d{2}-\d{2})$", re.MULTILINE)


def _sections(changelog: str) -> list[str]:
    return re.findall(r"^## (.+)$", changelog, re.MULTILINE)


def test_the_project_version_is_the_newest_release_in_the_changelog() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    released = RELEASE.findall(changelog)
    assert released, "CHANGELOG.md has no '## X.Y.Z — YYYY-MM-DD' section"
    assert released[0][0] == version
    # Only "Unreleased" may stand above the newest release.
    sections = _sections(changelog)
    assert sections[: sections.index(f"{released[0][0]} — {released[0][1]}")] in (
        [],
        ["Unreleased"],
    )
