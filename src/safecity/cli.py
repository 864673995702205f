"""The ``safecity`` command line.

Each area registers its own subcommands (explicit list below, no plugin discovery). Heavy libraries
are imported inside the handlers, so ``safecity --help`` is fast.

Exit codes: 0 success, 1 a safecity error (bad input, config, store, planning), 2 usage error,
130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence

from safecity import __version__
from safecity.errors import SafecityError

__all__ = ["build_parser", "main"]

# module -> it has ``register(subparsers) -> None``; each handler is set with ``set_defaults(func=...)``
COMMAND_MODULES = (
    "safecity.registry.cli",
    "safecity.plan.cli",
    "safecity.monitor.cli",
    "safecity.web.cli",
    "safecity.store.cli",
    "safecity.evidence.cli",
)

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="safecity",
        description="Public CCTV platform: selective monitoring, camera planning, registry and console.",
    )
    parser.add_argument("--version", action="version", version=f"safecity {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # migrations report every step at INFO; users only need to hear about problems
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Handler | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    _configure_logging(args.verbose, args.quiet)
    try:
        return func(args)
    except SafecityError as exc:
        print(f"safecity: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("safecity: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # output piped into e.g. `head`, which closed early: not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
