"""Safety checks on the medical content pack (bot/pack/, every language).

The medical text must come from shared/medical/baclofen-facts.md; these tests guard the
structure, the Telegram HTML subset, the emergency numbers and the wording that the fact
sheet forbids (section 3).
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from bot.domain.plans import PlanCheck, parse_taper_command, prescriber_checks

CONTENT_DIR = Path(__file__).parents[2] / "bot" / "pack"
README = Path(__file__).parents[2] / "README.md"

REQUIRED_TOPICS = (
    "halflife",
    "dosage",
    "sideeffects",
    "interactions",
    "warnings",
    "pregnancy",
    "overdose",
    "withdrawal",
    "missed",
    "emergency",
    "sources",
)
TOPIC_TEXT_FIELDS = ("title", "menu", "summary", "body")
ALLOWED_TAGS = frozenset({"b", "i", "u", "code", "a"})
MAX_MENU = 30
MAX_SUMMARY = 60
MAX_BODY = 1500
# Russian runs about a fifth longer than English for the same meaning.
MAX_BODY_TRANSLATED = 1900
PLACEHOLDER = "{region_numbers}"

EXPECTED_EMERGENCY = {"us": "911", "uk": "999", "eu": "112", "ru": "112", "other": ""}

FORBIDDEN_PATTERNS = (
    r"\b03\b",
    r"inhal",
    r"snort",
    r"sinus",
    r"no (physical|chemical) dependence",
    r"half-life (is|of) (about )?2 hours",
    r"light drug",
    r"\btrip\b",
    r"euphori",
    r"drug test",
    # The same, in Russian.
    r"ингал",
    r"нюха",
    r"синус",
    r"нет (физической|химической) зависимости",
    r"л[её]гк\w* наркотик",
    r"\bтрип",
    r"эйфори",
    r"тест\w* на наркотики",
)


def _load(name: str) -> dict[str, Any]:
    with (CONTENT_DIR / name).open("rb") as fh:
        return tomllib.load(fh)


LANGUAGES: list[str] = _load("pack.toml")["languages"]


@pytest.fixture(scope="module", params=LANGUAGES)
def language(request: pytest.FixtureRequest) -> str:
    code: str = request.param
    return code


@pytest.fixture(scope="module")
def topics(language: str) -> dict[str, Any]:
    return _load(f"{language}/topics.toml")


@pytest.fixture(scope="module")
def sources(language: str) -> dict[str, Any]:
    """Each source's shared URL with its title in the language."""
    titles = _load(f"{language}/sources.toml")
    return {key: {**table, **titles.get(key, {})} for key, table in _load("sources.toml").items()}


@pytest.fixture(scope="module")
def regions(language: str) -> dict[str, Any]:
    """The shared numbers with the language's words around them, one table per region."""
    words = _load(f"{language}/regions.toml")
    return {key: {**table, **words[key]} for key, table in _load("regions.toml").items()}


class _TelegramHTMLChecker(HTMLParser):
    """Collects problems with the Telegram HTML subset used in topic bodies."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag <{tag}> not allowed")
        if tag == "a":
            names = [name for name, _ in attrs]
            href = dict(attrs).get("href") or ""
            if names != ["href"] or not href.startswith(("https://", "http://")):
                self.errors.append(f"<a> needs exactly one http(s) href, got {attrs!r}")
        elif attrs:
            self.errors.append(f"<{tag}> must not have attributes")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/> not allowed")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> (open: {self.stack})")
            return
        self.stack.pop()

    def handle_decl(self, decl: str) -> None:
        self.errors.append(f"declaration not allowed: {decl}")

    def handle_comment(self, data: str) -> None:
        self.errors.append("HTML comment not allowed")


def html_problems(text: str) -> list[str]:
    checker = _TelegramHTMLChecker()
    checker.feed(text)
    checker.close()
    problems = list(checker.errors)
    if checker.stack:
        problems.append(f"unclosed tags: {checker.stack}")
    # Outside of tags, < and > must be escaped; & must start an entity.
    outside = re.sub(r"</?[a-z]+(\s[^<>]*)?>", "", text)
    if "<" in outside or ">" in outside:
        problems.append("raw < or > outside a tag (escape as &lt; &gt;)")
    if re.search(r"&(?!(amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);)", text):
        problems.append("raw & (escape as &amp;)")
    return problems


def test_html_checker_catches_bad_markup() -> None:
    assert html_problems('<b>ok</b> <i>fine</i> &lt;2 &amp; <a href="https://x.org">x</a>') == []
    assert html_problems("<div>x</div>")
    assert html_problems("<b>open")
    assert html_problems("<b><i>x</b></i>")
    assert html_problems("a < b")
    assert html_problems("salt & pepper")
    assert html_problems('<a href="javascript:x">x</a>')


def test_all_required_topics_present_and_filled(topics: dict[str, Any]) -> None:
    missing = [key for key in REQUIRED_TOPICS if key not in topics]
    assert not missing, f"missing topics: {missing}"
    for key in REQUIRED_TOPICS:
        topic = topics[key]
        for field in TOPIC_TEXT_FIELDS:
            value = topic.get(field)
            assert isinstance(value, str), f"{key}.{field} must be a string"
            assert value.strip(), f"{key}.{field} is empty"
        refs = topic.get("sources")
        assert isinstance(refs, list), f"{key}.sources must be a list"
        assert refs, f"{key}.sources is empty"
        assert all(isinstance(ref, str) and ref for ref in refs), f"{key}.sources: bad entry"


def test_topic_lengths(topics: dict[str, Any], language: str) -> None:
    longest = MAX_BODY if language == "en" else MAX_BODY_TRANSLATED
    for key, topic in topics.items():
        assert len(topic["menu"]) <= MAX_MENU, f"{key}.menu longer than {MAX_MENU}"
        assert len(topic["summary"]) <= MAX_SUMMARY, f"{key}.summary longer than {MAX_SUMMARY}"
        assert len(topic["body"]) <= longest, f"{key}.body longer than {longest}"


def test_every_referenced_source_exists(
    topics: dict[str, Any], regions: dict[str, Any], sources: dict[str, Any]
) -> None:
    for owner, table in (("topic", topics), ("region", regions)):
        for key, entry in table.items():
            unknown = [ref for ref in entry.get("sources", []) if ref not in sources]
            assert not unknown, f"{owner} {key} cites unknown sources: {unknown}"


def test_every_source_has_title_and_web_url(sources: dict[str, Any]) -> None:
    assert sources
    for key, source in sources.items():
        assert isinstance(source.get("title"), str), f"{key}: title missing"
        assert source["title"].strip(), f"{key}: title empty"
        url = source.get("url")
        assert isinstance(url, str), f"{key}: url missing"
        assert url.startswith(("https://", "http://")), f"{key}: url must be http(s)"
        assert " " not in url, f"{key}: url contains a space"


def test_bodies_use_only_telegram_html(topics: dict[str, Any]) -> None:
    for key, topic in topics.items():
        for field in TOPIC_TEXT_FIELDS:
            problems = html_problems(topic[field])
            assert not problems, f"{key}.{field}: {problems}"


def test_placeholders(topics: dict[str, Any]) -> None:
    emergency = topics["emergency"]["body"]
    assert emergency.count(PLACEHOLDER) == 1
    rest = emergency.replace(PLACEHOLDER, "")
    assert "{" not in rest
    assert "}" not in rest
    for key, topic in topics.items():
        for field in TOPIC_TEXT_FIELDS:
            if key == "emergency" and field == "body":
                continue
            text = topic[field]
            assert "{" not in text, f"{key}.{field} has a brace"
            assert "}" not in text, f"{key}.{field} has a brace"


def test_regions_have_the_right_numbers(regions: dict[str, Any]) -> None:
    for region, number in EXPECTED_EMERGENCY.items():
        assert region in regions, f"region {region} missing"
        entry = regions[region]
        assert entry.get("emergency") == number, f"{region}: emergency should be {number!r}"
        assert isinstance(entry.get("name"), str), f"{region}: name missing"
        assert entry["name"].strip(), f"{region}: name empty"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry.get("reviewed", "")), region
        if number:
            assert entry.get("sources"), f"{region}: a number needs a source"
    assert "1-800-222-1222" in regions["us"].get("poison", "")
    assert "111" in regions["uk"].get("advice", "")
    assert "103" in regions["ru"].get("advice", "")


@pytest.mark.parametrize("pattern", FORBIDDEN_PATTERNS)
def test_no_forbidden_wording(pattern: str) -> None:
    # The free-text concepts (concepts/) may name what patients say; the bot never says it.
    files = sorted(CONTENT_DIR.glob("*.toml")) + sorted(CONTENT_DIR.glob("*/*.toml"))
    files = [path for path in files if path.parent.name != "concepts"]
    assert files, "no content files found"
    regex = re.compile(pattern, re.IGNORECASE)
    for path in files:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not regex.search(line), f"{path.name}:{lineno} matches {pattern!r}: {line}"


def test_pack_version() -> None:
    pack = _load("pack.toml")
    assert isinstance(pack.get("version"), str)
    assert pack["version"].strip()


# Mirrors and staging copies that the fact sheet had to read some documents through; /sources
# must link the primary page of each document instead.
MIRROR_HOSTS = (
    "rxlist.com",
    "globalrph.com",
    "medlibrary.org",
    "druginserts.com",
    "rxreasoner.com",
    "docslib.org",
    "themeditary.com",
    "mimsdev.com",
    "azurewebsites.net",
    "litmetric.com",
    "news.lt",
    "elispot.biz",
    "healthunlocked.com",
    "echopulsenews.com",
    "druginteractionchecker.com",
)


def test_sources_link_primary_pages_not_mirrors(sources: dict[str, Any]) -> None:
    for key, source in sources.items():
        assert source["url"].startswith("https://"), key
        for host in MIRROR_HOSTS:
            assert host not in source["url"], (key, source["url"])


def test_regions_have_their_urgent_and_crisis_lines(regions: dict[str, Any]) -> None:
    assert "1-800-222-1222" in regions["us"]["poison"]
    assert "988" in regions["us"]["crisis"]
    assert "111" in regions["uk"]["advice"]
    assert "116 123" in regions["uk"]["crisis"]
    assert "103" in regions["ru"]["advice"]
    for key in ("eu", "ru", "other"):
        assert regions[key]["crisis"] == ""  # not verified: the emergency number instead


def test_a_pack_with_an_unknown_concept_or_category_is_refused(tmp_path: Path) -> None:
    import shutil

    from bot.content import ContentError, load_pack

    pack = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, pack)
    english = pack / "concepts" / "en.toml"
    english.write_text(
        english.read_text(encoding="utf-8").replace(
            "[words]\n", '[words]\nsneezing = ["sneeze", "achoo"]\n', 1
        ),
        encoding="utf-8",
    )
    (pack / "concepts" / "ru.toml").write_text("language = 'ru'\n[words\n", encoding="utf-8")
    with pytest.raises(ContentError) as refused:
        load_pack(pack)
    problems = " | ".join(refused.value.problems)
    assert "en: unknown concept 'sneezing'" in problems
    assert "concepts/ru.toml: not valid TOML" in problems

    shutil.rmtree(pack)
    shutil.copytree(CONTENT_DIR, pack)
    rules = pack / "concepts" / "rules.toml"
    rules.write_text(
        rules.read_text(encoding="utf-8")
        + '\n[[rule]]\ncategory = "sneezing"\nall = ["breath"]\n'
        + '\n[[rule]]\ncategory = "seizure"\nall = ["sneeze"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as refused:
        load_pack(pack)
    assert "unknown category 'sneezing'" in " | ".join(refused.value.problems)
    rules.write_text(
        rules.read_text(encoding="utf-8").replace('category = "sneezing"', 'category = "seizure"'),
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as refused:
        load_pack(pack)
    assert "unknown concept 'sneeze'" in " | ".join(refused.value.problems)


# Fact sheet 2.14: no sourced rule for going back on baclofen after days without it (the
# prescriber decides). The ran-out answer once told patients not to restart "at the full dose"
# («сразу с полной дозы»): a rule the sheet does not give. It must not come back.
RESTART_WORDING = ("restart", "full dose", "возобнов", "сразу", "полной дозы")


def test_the_ran_out_answer_gives_no_restart_rule(language: str) -> None:
    text = _load(f"{language}/messages.toml")["stop"]["ran_out"]
    for wording in RESTART_WORDING:
        assert wording not in text.lower(), f"{language} stop.ran_out says {wording!r}"
    assert "{emergency_line}" in text  # the urgent signs end with the region's number


# A /taper example as the pack shows it (<code>...</code>) and as the README does (indented code
# or `...`); "/taper <start> <steps> [stop]" is the syntax, not an example.
_TAPER_EXAMPLE = re.compile(r"(?:<code>|`|^ {4})/taper ([^<`\n]+)", re.MULTILINE)


def _taper_examples() -> list[tuple[str, str]]:
    """(where, arguments) of every /taper example in the pack (every language) and the README."""
    files = [
        path for path in sorted(CONTENT_DIR.glob("*/*.toml")) if path.parent.name != "concepts"
    ]
    found = []
    for path in [*files, README]:
        where = str(path.relative_to(CONTENT_DIR.parent.parent))
        text = path.read_text(encoding="utf-8")
        found += [(where, match.strip()) for match in _TAPER_EXAMPLE.findall(text)]
    return found


def test_taper_examples_are_found_in_every_language_and_the_readme() -> None:
    places = {where for where, _ in _taper_examples()}
    assert {f"bot/pack/{language}/messages.toml" for language in LANGUAGES} <= places
    assert "README.md" in places


@pytest.mark.parametrize(("where", "args"), _taper_examples())
def test_a_taper_example_is_not_a_fast_taper_or_a_big_drop(where: str, args: str) -> None:
    """A patient who copies the example must not be warned that it stops too fast (fact sheet
    2.7: the NHS says over 1 to 2 weeks): every example parses and passes the checks. The real
    date: an example with a fixed date that has passed would be refused as in the past."""
    plan = parse_taper_command(args.split(), datetime.now(UTC).date())
    checks = prescriber_checks(plan)
    assert PlanCheck.FAST_TAPER not in checks, (where, args, plan.titration_days())
    assert PlanCheck.BIG_DROP not in checks, (where, args)
