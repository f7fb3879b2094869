"""``python -m sagawatch`` runs the CLI, for environments where the console script is not on PATH."""

from sagawatch.cli import main

main()
