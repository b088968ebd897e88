"""Subcommands of the `centralita` CLI, one module each."""
