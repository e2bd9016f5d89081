"""``affectlens serve``: settings from the command line, then ``AFFECTLENS_*`` variables, then uvicorn.

Mounted lazily by ``affectlens.cli`` (like ``bench`` and ``taxonomy``): nothing here is
imported until the command runs, and FastAPI/uvicorn only inside it.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

USAGE_ERROR = 2
RUNTIME_ERROR = 1

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on [default: 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port [default: 8000].")] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="AFFECTLENS_API_KEY", help="Require 'Authorization: Bearer KEY'.")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Default text model.")] = None,
    allowed_hosts: Annotated[str | None, typer.Option(
        help="Host names to answer, comma-separated ('*': any) [default: the --host's names].")] = None,
    allowed_origins: Annotated[str | None, typer.Option(
        help="Browser origins allowed to POST and stream besides the page's own, comma-separated.")] = None,
    max_upload_mb: Annotated[float | None, typer.Option(help="Largest upload in MB [default: 25].")] = None,
    max_jobs: Annotated[int | None, typer.Option(help="Jobs queued or running at once [default: 8].")] = None,
    timeout: Annotated[float | None, typer.Option(help="Per-request timeout in seconds [default: 30].")] = None,
    threads: Annotated[str | None, typer.Option(metavar="N|auto", help="Threads per model runtime pool "
                                                "[default: auto].")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Start the HTTP service and web page (needs the 'service' extra); see docs/service.md.

    Other settings come from AFFECTLENS_<SETTING> variables (e.g. AFFECTLENS_MAX_TEXT_CHARS).

    Example:

    \b
      affectlens serve --port 8000    # then open http://127.0.0.1:8000/
    """
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        typer.echo(f"error: 'affectlens serve' needs the service extra: pip install 'affectlens[service]' "
                   f"({exc.name} is missing)", err=True)
        raise typer.Exit(RUNTIME_ERROR) from None
    from affectlens.service import app as service_app
    from affectlens.service.settings import ServiceSettings

    try:
        settings = ServiceSettings.from_env(
            host=host, port=port, api_key=api_key, model=model, allowed_hosts=allowed_hosts,
            allowed_origins=allowed_origins, max_jobs_queued=max_jobs, request_timeout_s=timeout,
            max_upload_bytes=None if max_upload_mb is None else int(max_upload_mb * (1 << 20)), threads=threads)
        from affectlens.runtime_threads import configure

        configure(threads=settings.threads, spinning=settings.thread_spinning)  # before any model loads
    except ValueError as exc:
        if os.environ.get("AFFECTLENS_DEBUG"):
            raise
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(USAGE_ERROR) from None
    service_app.run_server(settings, log_level=log_level)
