"""``python -m bot``: validate the configuration and the content pack, then serve."""

from __future__ import annotations

import os
import sys

from bot.app import build_application, run
from bot.config import ConfigError, configure_logging, load_settings
from bot.content import ContentError, load_pack

EXIT_CONFIG = 2


def main() -> int:
    os.umask(0o077)  # health data: every file the bot creates is owner-only
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level)
    try:
        pack = load_pack(settings.content_dir)
    except ContentError as error:
        print(
            f"configuration error: CONTENT_DIR {settings.content_dir} holds an invalid content "
            f"pack: {error.problems[0]}"
            + (f" (and {len(error.problems) - 1} more)" if len(error.problems) > 1 else ""),
            file=sys.stderr,
        )
        return EXIT_CONFIG
    try:
        run(build_application(settings, pack), settings)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


if __name__ == "__main__":
    sys.exit(main())
