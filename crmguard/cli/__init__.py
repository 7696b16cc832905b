"""The ``crmguard`` command line (Typer + Rich)."""
