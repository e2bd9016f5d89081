"""HTTP service and web page (``affectlens serve``; needs the ``service`` extra).

Import ``affectlens.service.app`` for ``create_app``; this package itself imports nothing heavy.
"""
