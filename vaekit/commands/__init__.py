"""Subcommands of ``vaekit``: each module here defines ``register(subparsers)`` and is found automatically."""

import argparse


def int_at_least(low: int):
    """An argparse ``type``: the integer of the text, which must be >= ``low`` (else a message for the user)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse
