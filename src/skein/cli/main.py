"""Entry point of the ``skein`` command."""

from __future__ import annotations

import argparse
import sys

import skein


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``skein`` command."""
    parser = argparse.ArgumentParser(prog="skein", description="Deploy applications on YARN.")
    parser.add_argument("--version", action="version", version=f"skein {skein.__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``skein`` command and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
