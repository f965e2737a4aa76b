"""``python -m dxrx`` runs the command-line interface."""

from dxrx.cli import main

main()
