"""Subcommands of ``vaekit``: each module here defines ``register(subparsers)`` and is found automatically."""
