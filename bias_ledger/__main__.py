"""``python -m bias_ledger`` runs the command-line interface."""

from bias_ledger.cli import main

main()
