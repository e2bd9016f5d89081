"""``python -m affectlens``: the ``affectlens`` command line."""

from affectlens.cli import main

main()
