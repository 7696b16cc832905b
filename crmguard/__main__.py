"""``python -m crmguard``: the same command as the ``crmguard`` console script."""

from crmguard.cli.app import main

main()
