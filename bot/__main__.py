"""``python -m bot [check | backup <file> | demo]``: serve (the default), check health, back up,
or try it all locally without Telegram."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot import ops
from bot.app import build_application, run
from bot.config import ConfigError, configure_logging, load_settings
from bot.content import ContentError, load_library
from bot.storage.db import check_usable

EXIT_CONFIG = 2


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    os.umask(0o077)  # health data: every file the bot creates is owner-only
    if arguments.command == "demo":
        return _demo(arguments.port, arguments.data_dir)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level, settings.log_format)
    if arguments.command == "check":
        return ops.check_command(settings)
    if arguments.command == "backup":
        return ops.backup_command(settings, arguments.file)
    try:
        pack = load_library(settings.content_dir)
    except ContentError as error:
        print(f"configuration error: {ops.content_problem(settings, error)}", file=sys.stderr)
        return EXIT_CONFIG
    problem = check_usable(settings.database_path)
    if problem is not None:
        print(f"configuration error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        run(build_application(settings, pack), settings)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Run the bot (default).")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser(
        "check", help="check configuration, database, content pack and token; exit 1 if not ok"
    )
    backup = commands.add_parser("backup", help="write a consistent copy of the database")
    backup.add_argument("file", type=Path, help="where to write the copy (owner-only)")
    demo = commands.add_parser(
        "demo", help="local Bot API emulator, web chat and time machine on 127.0.0.1; no token"
    )
    demo.add_argument("--port", type=int, default=8765, help="web chat port (0: any free one)")
    demo.add_argument(
        "--data-dir", type=Path, default=Path("data/demo"), help="the demo's database folder"
    )
    return parser


def _demo(port: int, data_dir: Path) -> int:
    from bot.emulator import demo  # only the demo needs the emulator and its web page

    return demo.main(port=port, data_dir=data_dir)


if __name__ == "__main__":
    sys.exit(main())
