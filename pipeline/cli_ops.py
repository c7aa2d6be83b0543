"""Operator subcommands of `zizhi` (backlog runs, the verdict store, Prefect deployments)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the operator subcommands to the `zizhi` parser."""
