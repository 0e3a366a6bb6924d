"""Small helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(
    subparsers: argparse._SubParsersAction, name: str, summary: str, description: str
) -> argparse.ArgumentParser:
    """A sub-command parser whose ``--help`` keeps the description's line breaks (examples)."""
    return subparsers.add_parser(
        name,
        help=summary,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document on stdout and nothing else there",
    )


def print_json(document: Any) -> None:
    """Write ``document`` as JSON on stdout (the only thing ``--json`` puts there)."""
    json.dump(document, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")
