"""centralita config: print the effective configuration, secrets hidden."""

from __future__ import annotations

import argparse
import json

from models.core.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="print the effective configuration (secrets hidden)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    print(json.dumps(settings.redacted(), indent=2, default=str))
    return 0
