"""The base of every error nagui raises for a user to read.

A :class:`NaguiError`'s message is written for the person who caused it: what is wrong,
with which input, and what to do instead. Front-ends show it as is (the CLI prints it
after ``error:``, the app shows it on the page); anything else is a bug and is shown
with its type. Each subclass also keeps the builtin base it had (``ValueError`` for bad
input, ``RuntimeError`` for a bad file or state), so ``except ValueError`` still works.
"""
from __future__ import annotations


class NaguiError(Exception):
    """An error with a message for the user."""

    @property
    def user_message(self) -> str:
        return str(self).strip() or type(self).__name__


__all__ = ["NaguiError"]
