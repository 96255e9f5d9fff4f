"""The `tohyo` command: one entry point whose subcommands live in each role's package."""

__all__ = ["__version__"]
__version__ = "0.1.0"
