"""Errors the user causes and can fix, and how every command line reports them.

:class:`UserError` is the one base class of failures that come from the user's input or set-up:
a bad file or option, missing data, a service that does not answer. Its ``str()`` is one sentence
(or, for a site config, one line per problem) that names the problem and the fix. Each part
subclasses it (the site model, the stack, the edge, the cloud, the evaluation), so a command
line needs no list of error types: its group is a :class:`Group` (or a lone command a
:class:`Command`), which shows a ``UserError`` as ``Error: <text>`` and exits 1, never with a
traceback. Anything else is a bug and keeps its traceback.

A base-layer module: the standard library and click only, so that every package may import it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

__all__ = ["Command", "Group", "UserError", "reported_as_click_errors"]


class UserError(Exception):
    """A failure the user can fix; ``str()`` names the problem and the fix."""


@contextmanager
def reported_as_click_errors() -> Iterator[None]:
    """Turn a :class:`UserError` raised inside into the command line's one-line error (exit 1)."""
    try:
        yield
    except UserError as exc:
        raise click.ClickException(str(exc)) from None


class Group(click.Group):
    """A click group whose commands' :class:`UserError` are reported as one-line errors."""

    def invoke(self, ctx: click.Context) -> Any:
        with reported_as_click_errors():
            return super().invoke(ctx)


class Command(click.Command):
    """A click command whose :class:`UserError` is reported as a one-line error."""

    def invoke(self, ctx: click.Context) -> Any:
        with reported_as_click_errors():
            return super().invoke(ctx)
