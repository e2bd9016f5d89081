"""``affectlens report``: the main CLI mounts this module's ``app`` lazily (see ``batch/cli.py``)."""

from __future__ import annotations

from affectlens.batch.cli import report_app as app

__all__ = ["app"]
