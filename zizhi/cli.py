"""The `zizhi` command line: the top of the import graph.

Each part registers its own subcommands; this module only puts them together, importing downward:
`pipeline` (verify) <- `devtools` (replay), `operations` (backlog, verdicts, flows), `console`, `api`.
Nothing below imports this module.
"""

from __future__ import annotations

import argparse
import sys

from api.cli import register as register_api
from console.cli import register as register_console
from devtools.cli import register as register_devtools
from operations.cli import register as register_operations
from pipeline.cli import register as register_verify


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zizhi", description="Pre-screen Douyin shop qualification documents.")
    sub = parser.add_subparsers(dest="command", required=True)
    register_verify(sub)
    register_devtools(sub)
    # Operator commands: backlog runs, the verdict store, Prefect deployments.
    register_operations(sub)
    # The reviewer console and its accounts (a web app over the verdict store).
    register_console(sub)
    # The intake API for the listing service (uploads, statuses, signed notifications).
    register_api(sub)
    _describe(parser)
    return parser


def _describe(parser: argparse.ArgumentParser) -> None:
    """Each subcommand's own --help starts with what it does: the line the list of commands shows."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                text = helps.get(name) or ""
                if not child.description and text:
                    child.description = text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
                _describe(child)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
