"""Load test of the HTTP service on loopback: latency of single-text requests, alone and beside jobs.

Usage: python benchmarks/service_load.py [--seconds 60] [--clients 20] [--model NAME]
                                         [--no-jobs] [--env AFFECTLENS_BATCH_WAIT_MS=2] [--json out.json]

Starts ``affectlens serve`` in a subprocess on 127.0.0.1 (a free port), waits for
``/readyz``, warms up, then runs two phases of ``--seconds`` each:

1. ``text``: ``--clients`` concurrent clients POST ``/v1/analyze/text`` back to back;
2. ``text+jobs``: the same, while table jobs (``--job-rows`` rows each) run one after
   another through ``/v1/jobs`` -- do the jobs starve interactive requests?

Reports requests/s, p50/p95/p99/max latency, status codes (5xx must be zero) and job
rows/s, then stops the service.  Everything is bounded: it stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

TEXTS = [
    "I finally got the job offer this morning and I am so happy I could cry.",
    "My sister called to say she is proud of me, which meant a lot.",
    "Still, I am a little nervous about moving to a new city where I know nobody.",
    "This is the worst customer service I have ever experienced, I am furious.",
    "Thanks so much for the help yesterday, you saved my day!",
    "I can't believe they cancelled the show, that's so disappointing.",
    "Wow, I did not expect that ending at all.",
    "The package arrived on Tuesday.",
    "I miss my grandmother every single day since she passed.",
    "Ugh, that smell in the fridge is disgusting.",
    "Honestly I'm not sure what you mean, could you explain it again?",
    "We won the final! Best night of my life!",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_LOG_LINE = re.compile(rb"POST /v1/analyze/text 200 ([0-9.]+)ms")


def _server_latencies(log_file: Any, since: int) -> tuple[dict[str, float], int]:
    """p50/p95 of the service's own request times (its log lines) after byte offset ``since``:
    the latency without the load generator's own scheduling delays (it shares the cores)."""
    log_file.seek(since)
    data = log_file.read()
    values = [float(m.group(1)) for m in _LOG_LINE.finditer(data)]
    log_file.seek(0, os.SEEK_END)
    summary = {"server_p50_ms": round(_percentile(values, 50), 1), "server_p95_ms": round(_percentile(values, 95), 1)}
    return summary, since + len(data)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _start_server(port: int, model: str | None, env_overrides: list[str], log_file: Any,
                  model_dir: Path | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    for pair in env_overrides:
        key, _, value = pair.partition("=")
        env[key] = value
    command = [sys.executable, "-c", "from affectlens.cli import main; main()", "serve",
               "--host", "127.0.0.1", "--port", str(port)]
    if model:
        command += ["--model", model]
    if model_dir is not None:  # a model folder that is not registered (e.g. a fresh export)
        command = [sys.executable, "-c",
                   "import sys\n"
                   "from affectlens.recognizers.text_onnx import TextOnnxRecognizer\n"
                   "from affectlens.service.app import run_server\n"
                   "from affectlens.service.settings import ServiceSettings\n"
                   "run_server(ServiceSettings.from_env(host='127.0.0.1', port=int(sys.argv[1])),\n"
                   "           recognizers=[TextOnnxRecognizer(sys.argv[2])])\n",
                   str(port), str(model_dir)]
    # the service logs a line per request: a file, not a pipe nobody reads (a full pipe blocks it)
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log_file)


def _stop_server(server: subprocess.Popen[bytes], log_file: Any, *, wait_s: float) -> None:
    """Ctrl-C the server (a clean uvicorn shutdown), kill it after ``wait_s``, close its log."""
    server.send_signal(signal.SIGINT)
    try:
        server.wait(wait_s)
    except subprocess.TimeoutExpired:
        server.kill()
    log_file.close()


def _server_log(log_file: Any) -> str:
    log_file.seek(0)
    return str(log_file.read().decode(errors="replace")[-2000:])


async def _wait_ready(client: Any, base: str, server: subprocess.Popen[bytes], log_file: Any,
                      timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the service exited: " + _server_log(log_file))
        try:
            response = await client.get(base + "/readyz")
            data: dict[str, Any] = response.json()
            if response.status_code == 200:
                return data
            if data.get("error") not in (None, "loading"):
                raise RuntimeError(f"the service cannot load its model: {data['error']}")
        except (OSError, ValueError) as exc:
            if "cannot load" in str(exc):
                raise
        except Exception:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("the service did not become ready in time")


class KeepAliveClient:
    """A minimal HTTP/1.1 keep-alive client for one request shape.

    The load generator shares the machine's cores with the service; httpx spends about a
    millisecond of CPU per request, which shows up as queueing in the measured latency.
    Writing the request bytes by hand keeps the generator's own cost small.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post_json(self, path: str, payload: dict[str, Any]) -> tuple[int, bytes]:
        body = json.dumps(payload).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(head + body)
        header = await self.reader.readuntil(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                self.close()
        data = await self.reader.readexactly(length) if self.reader is not None else b""
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _text_clients(client: Any, base: str, clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    stop = time.monotonic() + seconds
    port = int(base.rsplit(":", 1)[1])

    async def one_client(number: int) -> None:
        i = number
        connection = KeepAliveClient(port)
        while time.monotonic() < stop:
            text = TEXTS[i % len(TEXTS)]
            i += clients
            started = time.perf_counter()
            try:
                status, _ = await connection.post_json("/v1/analyze/text", {"text": text})
                statuses[status] += 1
            except Exception:
                statuses[-1] += 1  # connection error
                connection.close()
                continue
            latencies.append((time.perf_counter() - started) * 1000)
        connection.close()

    started = time.monotonic()
    await asyncio.gather(*(one_client(n) for n in range(clients)))
    elapsed = time.monotonic() - started
    return {
        "requests": sum(statuses.values()),
        "requests_per_s": round(sum(statuses.values()) / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 50), 1),
        "p95_ms": round(_percentile(latencies, 95), 1),
        "p99_ms": round(_percentile(latencies, 99), 1),
        "max_ms": round(max(latencies, default=float("nan")), 1),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": sum(v for k, v in statuses.items() if k >= 500),
    }


async def _job_loop(client: Any, base: str, rows: int, stop: asyncio.Event) -> dict[str, Any]:
    body = "id,text\n" + "".join(f'{i},"{TEXTS[i % len(TEXTS)]}"\n' for i in range(rows))
    done_rows = 0
    jobs = 0
    statuses: Counter[str] = Counter()
    started = time.monotonic()
    while not stop.is_set():
        response = await client.post(base + "/v1/jobs", files={"file": ("t.csv", body.encode(), "text/csv")},
                                     data={"column": "text", "id_column": "id"})
        statuses[str(response.status_code)] += 1
        if response.status_code != 202:
            await asyncio.sleep(0.2)
            continue
        job = response.json()
        while not stop.is_set():
            status = (await client.get(f"{base}/v1/jobs/{job['id']}")).json()
            if status["status"] not in ("queued", "running"):
                statuses[status["status"]] += 1
                if status["status"] == "done":
                    done_rows += status["progress"]["done"]
                    jobs += 1
                break
            await asyncio.sleep(0.1)
        else:
            partial = (await client.delete(f"{base}/v1/jobs/{job['id']}")).json()
            done_rows += partial["progress"]["done"]
    elapsed = time.monotonic() - started
    return {"jobs_finished": jobs, "job_rows": done_rows, "job_rows_per_s": round(done_rows / elapsed, 1),
            "job_statuses": dict(statuses)}


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_file = tempfile.TemporaryFile()  # noqa: SIM115  (closed in finally)
    server = _start_server(port, args.model, args.env, log_file, args.model_dir)
    limits = httpx.Limits(max_connections=args.clients + 4, max_keepalive_connections=args.clients + 4)
    report: dict[str, Any] = {"clients": args.clients, "seconds": args.seconds, "cpus": os.cpu_count(),
                              "env": args.env}
    try:
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            ready = await _wait_ready(client, base, server, log_file, timeout=120)
            report["model"] = ready.get("model")
            await _text_clients(client, base, args.clients, min(3.0, args.seconds))  # warm-up
            _, offset = _server_latencies(log_file, 0)
            report["text"] = await _text_clients(client, base, args.clients, args.seconds)
            server_side, offset = _server_latencies(log_file, offset)
            report["text"].update(server_side)
            _print_phase("text only", report["text"])
            if not args.no_jobs:
                stop = asyncio.Event()
                jobs = asyncio.create_task(_job_loop(client, base, args.job_rows, stop))
                await asyncio.sleep(0.5)  # a job is running before the clock starts
                _, offset = _server_latencies(log_file, offset)
                report["text_with_jobs"] = await _text_clients(client, base, args.clients, args.seconds)
                server_side, offset = _server_latencies(log_file, offset)
                report["text_with_jobs"].update(server_side)
                stop.set()
                report["jobs"] = await jobs
                _print_phase("text + jobs", report["text_with_jobs"])
                print(f"  jobs: {report['jobs']}")
    finally:
        _stop_server(server, log_file, wait_s=10)
    return report


def _print_phase(name: str, phase: dict[str, Any]) -> None:
    print(f"{name:12s} {phase['requests']} requests, {phase['requests_per_s']}/s, p50 {phase['p50_ms']} ms, "
          f"p95 {phase['p95_ms']} ms, p99 {phase['p99_ms']} ms, max {phase['max_ms']} ms, "
          f"statuses {phase['statuses']}, 5xx {phase['server_errors']}; in the service: "
          f"p50 {phase.get('server_p50_ms')} ms, p95 {phase.get('server_p95_ms')} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--model", default=None, help="text model (default: the service's default)")
    parser.add_argument("--model-dir", type=Path, default=None,
                        help="serve this text model folder (model.onnx, tokenizer.json, config.json) instead")
    parser.add_argument("--job-rows", type=int, default=2000, help="rows per table job in the mixed phase")
    parser.add_argument("--no-jobs", action="store_true", help="skip the mixed phase")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the service (AFFECTLENS_*)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args()
    report = asyncio.run(_run(args))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    failed = report["text"]["server_errors"] + report.get("text_with_jobs", {}).get("server_errors", 0)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
