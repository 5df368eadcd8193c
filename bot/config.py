"""Typed, validated settings read from the environment and an optional ``.env`` file.

A bad value raises :class:`ConfigError` whose message is one line naming the variable;
``python -m bot`` turns it into exit status 2 without a traceback.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.domain.timezones import TimezoneError, parse_timezone
from bot.jsonlog import JsonLogFormatter

_TOKEN_PATTERN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,100}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_DATABASE_PATH = "data/bot.sqlite3"
MIN_RETENTION_DAYS = 7
MAX_RETENTION_DAYS = 3650
_LOG_FORMATS = ("plain", "json")

BotMode = Literal["polling", "webhook"]
LogFormat = Literal["plain", "json"]


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    telegram_bot_token: str = field(repr=False)  # secrets never reach a log line via repr
    admin_ids: frozenset[int]
    database_path: Path
    telegram_api_base_url: str
    bot_mode: BotMode
    webhook_url: str | None
    webhook_secret: str | None = field(repr=False)
    webhook_listen: str
    webhook_port: int
    log_level: str
    default_timezone: ZoneInfo
    content_dir: Path
    data_retention_days: int
    log_format: LogFormat = "plain"
    metrics_port: int | None = None  # None: no metrics endpoint
    metrics_listen: str = "127.0.0.1"
    # Dose reminders beyond Telegram's free rate go with allow_paid_broadcast (Stars per message).
    paid_broadcast: bool = False
    # Telegram's limits, which the send budget keeps to: messages a second overall, per chat.
    send_rate: float = 30.0
    send_rate_per_chat: float = 1.0

    @property
    def bot_api_base_url(self) -> str:
        """PTB appends the token and the method: ``{root}/bot{token}/{method}``."""
        return f"{self.telegram_api_base_url}/bot"

    @property
    def bot_api_file_url(self) -> str:
        return f"{self.telegram_api_base_url}/file/bot"


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines; blank lines and ``#`` comments are skipped, quotes stripped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{path}: line {number} is not KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv_path: Path | None = Path(".env")
) -> Settings:
    """Build settings from ``.env`` overlaid by the real environment (the environment wins)."""
    merged: dict[str, str] = read_dotenv(dotenv_path) if dotenv_path else {}
    merged.update(os.environ if environ is None else environ)
    env = {key: value.strip() for key, value in merged.items()}

    mode = _choice(env, "BOT_MODE", ("polling", "webhook"), "polling")
    webhook_url = env.get("WEBHOOK_URL") or None
    webhook_secret = env.get("WEBHOOK_SECRET") or None
    if mode == "webhook":
        if webhook_url is None:
            raise ConfigError("WEBHOOK_URL is required when BOT_MODE=webhook (an https:// URL)")
        _url(env, "WEBHOOK_URL", webhook_url, schemes=("https",))
        if webhook_secret is None or not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", webhook_secret):
            raise ConfigError(
                "WEBHOOK_SECRET is required when BOT_MODE=webhook: 16-256 characters of "
                "A-Z, a-z, 0-9, _ or -"
            )

    settings = Settings(
        telegram_bot_token=_token(env),
        admin_ids=_admin_ids(env.get("ADMIN_IDS", "")),
        database_path=database_path(env),
        telegram_api_base_url=_url(
            env,
            "TELEGRAM_API_BASE_URL",
            env.get("TELEGRAM_API_BASE_URL") or "https://api.telegram.org",
            schemes=("http", "https"),
        ).rstrip("/"),
        bot_mode=mode,  # type: ignore[arg-type]
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        webhook_listen=env.get("WEBHOOK_LISTEN") or "127.0.0.1",
        webhook_port=_port("WEBHOOK_PORT", env.get("WEBHOOK_PORT") or "8080"),
        log_level=_choice(env, "LOG_LEVEL", _LOG_LEVELS, "INFO", upper=True),
        default_timezone=_timezone(env.get("DEFAULT_TIMEZONE") or "UTC"),
        content_dir=Path(env.get("CONTENT_DIR") or default_content_dir()),
        data_retention_days=_retention_days(env.get("DATA_RETENTION_DAYS") or "400"),
        log_format=_choice(env, "LOG_FORMAT", _LOG_FORMATS, "plain"),  # type: ignore[arg-type]
        metrics_port=_optional_port(env, "METRICS_PORT"),
        metrics_listen=env.get("METRICS_LISTEN") or "127.0.0.1",
        paid_broadcast=_choice(env, "PAID_BROADCAST", ("off", "on"), "off") == "on",
        send_rate=_rate(env, "SEND_RATE", 30.0),
        send_rate_per_chat=_rate(env, "SEND_RATE_PER_CHAT", 1.0),
    )
    if settings.bot_mode == "webhook" and settings.metrics_port == settings.webhook_port:
        raise ConfigError(
            f"METRICS_PORT must differ from WEBHOOK_PORT ({settings.webhook_port}): both listen"
        )
    return settings


def default_content_dir() -> Path:
    """The vetted pack shipped inside the package, so an installed bot runs from any folder."""
    # A plain directory in every install this project supports (wheels unpack to disk).
    return Path(str(resources.files("bot").joinpath("pack")))


def database_path(env: Mapping[str, str]) -> Path:
    return Path(env.get("DATABASE_PATH") or DEFAULT_DATABASE_PATH)


def _token(env: Mapping[str, str]) -> str:
    token = env.get("TELEGRAM_BOT_TOKEN", "")
    if not token:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather in the environment "
            "or in .env (see .env.example)"
        )
    if not _TOKEN_PATTERN.match(token):
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is malformed: expected <digits>:<secret>, as given by @BotFather"
        )
    return token


def _admin_ids(raw: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or int(part) <= 0:
            raise ConfigError(
                f"ADMIN_IDS must be comma-separated Telegram user ids (e.g. 12345,67890), "
                f"got {part!r}"
            )
        ids.add(int(part))
    return frozenset(ids)


def _url(env: Mapping[str, str], name: str, value: str, *, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc or parts.query or parts.fragment:
        allowed = " or ".join(f"{scheme}://" for scheme in schemes)
        raise ConfigError(f"{name} must be an {allowed} URL without query, got {value!r}")
    return value


def _port(name: str, raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"{name} must be a port number from 1 to 65535, got {raw!r}")
    return int(raw)


def _retention_days(raw: str) -> int:
    # At least a week: /today, /missed and the reminders read the last days of history.
    if not raw.isdigit() or not MIN_RETENTION_DAYS <= int(raw) <= MAX_RETENTION_DAYS:
        raise ConfigError(
            f"DATA_RETENTION_DAYS must be a whole number of days from {MIN_RETENTION_DAYS} to "
            f"{MAX_RETENTION_DAYS}, got {raw!r}"
        )
    return int(raw)


def _rate(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0.1 <= value <= 10_000:
        raise ConfigError(f"{name} must be messages a second from 0.1 to 10000, got {raw!r}")
    return value


def _optional_port(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name)
    return _port(name, raw) if raw else None


def _choice(
    env: Mapping[str, str],
    name: str,
    allowed: tuple[str, ...],
    default: str,
    *,
    upper: bool = False,
) -> str:
    value = env.get(name) or default
    value = value.upper() if upper else value.lower()
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _timezone(raw: str) -> ZoneInfo:
    try:
        return parse_timezone(raw)
    except TimezoneError:
        raise ConfigError(
            f"DEFAULT_TIMEZONE must be an IANA time zone such as Europe/Berlin, got {raw!r}"
        ) from None


def configure_logging(level: str, log_format: LogFormat = "plain") -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    # httpx logs every request URL, and the URL contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # pymorphy3 logs where its dictionaries live each time it loads them: noise, not events.
    logging.getLogger("pymorphy3").setLevel(logging.WARNING)
