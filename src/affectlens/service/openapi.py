"""Print the service's OpenAPI document (the committed ``docs/openapi.json`` is this output).

    python -m affectlens.service.openapi > docs/openapi.json
"""

from __future__ import annotations

import json
import sys
from typing import Any


def openapi_document() -> dict[str, Any]:
    """The schema of an app with default settings (limits in it are the schema's hard caps)."""
    from affectlens.service.app import create_app
    from affectlens.service.settings import ServiceSettings

    return create_app(ServiceSettings()).openapi()


def render() -> str:
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
