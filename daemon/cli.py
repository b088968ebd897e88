"""The `centralita` command line. Each command lives in daemon/commands/<name>.py."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from daemon.config import ConfigError, default_config_path, load_settings
from daemon.private_files import private_umask

# Modules under daemon.commands; each has register(subparsers) that adds its commands
# and sets `func(args, settings) -> int` (sync) on its parser.
COMMAND_MODULES = [
    "init",
    "run",
    "migrate",
    "user",
    "demo_data",
    "pbx_sim",
    "call",
    "calls",
    "config_show",
    "telegram_link",
    "status",
    "import_export",
    "mail",
    "doctor",
    "api_token",
    "calendar",
    "transcribe",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="centralita",
        description="Centralita CRM: a telephony-first CRM for teams on an Asterisk PBX.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="configuration file (default: $CENTRALITA_CONFIG or ./config.toml)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"daemon.commands.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"daemon.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    private_umask()  # whatever a command writes (database, key, uploads, exports) is 0600
    try:
        settings = load_settings(args.config if args.config else default_config_path())
    except ConfigError as err:
        print(f"centralita: {err}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args, settings) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
