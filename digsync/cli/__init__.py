"""The digsync command: parse options, call one library function, print, exit.

Exit codes: 0 ok, 1 findings, differences or drift, 2 usage, input, config or target error, 3 bug.

A command returns 0 or 1 from what it found; an error it raises takes its code from
:data:`EXIT_CODES` (the first class of the table the error is).

With ``--json`` a failure also prints, on stdout, the Config API's error shape:
``{"error": str | [str], "code": str, "problems": [problem]}`` (digsync.errors).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from digsync.cli.commands import _fail_json, _print_json, _print_problems
from digsync.cli.parser import _UsageExit, build_parser
from digsync.errors import (
    ConfigError,
    DigsyncError,
    DriftError,
    InputError,
    TargetError,
    UsageError,
)

EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (DriftError, 1),  # the target is not as planned: nothing was changed
    (ConfigError, 2),
    (UsageError, 2),
    (InputError, 2),
    (TargetError, 2),  # a remote failure: the server, tdx or the local folder
    (DigsyncError, 2),
)
"""Exit code of each error digsync raises on purpose; anything else is a bug (3)."""


def exit_code(exc: BaseException) -> int:
    """The exit code of an error (EXIT_CODES; SyncFailed: 1, the sync found trouble)."""
    from digsync.cli.sync import SyncFailed

    if isinstance(exc, SyncFailed):
        return 1
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return 3


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageExit as exc:  # argparse printed usage and message; exit 2 as it does
        if _wants_json(sys.argv[1:] if argv is None else list(argv)):
            from digsync.errors import error_json

            _print_json(error_json(exc.message, "usage_error"))
        raise
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if getattr(args, "format", None) == "json":
        args.json = True
    from digsync.editor.redact import redacted_output

    with redacted_output():  # a server may echo a credential into a message
        return _run(args)


def _wants_json(argv: list[str]) -> bool:
    """Whether command-line words that did not parse ask for JSON output."""
    words = argv[: argv.index("--")] if "--" in argv else argv
    pairs = zip(words, [*words[1:], ""], strict=True)
    return any(
        w == "--json" or w == "--format=json" or (w == "--format" and nxt == "json")
        for w, nxt in pairs
    )


def _run(args: argparse.Namespace) -> int:
    try:
        code: int = args.func(args)
        return code
    except ConfigError as exc:
        _print_problems(exc.problems)
        _fail_json(args, exc)
        return 2
    except DigsyncError as exc:
        print(f"error: {exc}", file=sys.stderr)
        _fail_json(args, exc)
        return exit_code(exc)
    except KeyboardInterrupt as exc:
        _fail_json(args, exc)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        import traceback

        traceback.print_exc()
        print("digsync hit a bug; please report it with the traceback above.", file=sys.stderr)
        _fail_json(args, exc)
        return 3
