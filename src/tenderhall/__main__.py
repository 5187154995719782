"""``python -m tenderhall`` runs the command line."""

from tenderhall.cli import main

main()
