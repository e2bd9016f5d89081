"""``python -m affectlens.testing.cli ARGS``: the ``affectlens`` command with ``dummy.keywords.v1`` registered.

For tests that run the real command in a subprocess and want a text model that loads in
milliseconds; the installed ``affectlens`` command does not know the dummy.
"""

from __future__ import annotations

from affectlens.testing.dummy import register_dummy


def main() -> None:
    register_dummy()
    from affectlens.cli import main as affectlens_main

    affectlens_main()


if __name__ == "__main__":
    main()
