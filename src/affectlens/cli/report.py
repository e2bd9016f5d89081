"""``affectlens report``: the main CLI mounts this module's ``app`` lazily (see ``cli/batch.py``)."""

from __future__ import annotations

from affectlens.cli.batch import report_app as app

__all__ = ["app"]
