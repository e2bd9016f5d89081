"""``python -m affectlens.cli``."""

from affectlens.cli import main

main()
