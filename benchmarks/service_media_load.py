"""Does a long audio file hold up short requests?  Latency of short text and 3-second WAV requests,
without and with a 90-minute audio job running, on one ``affectlens serve``.

Usage: python benchmarks/service_media_load.py [--seconds 30] [--text-clients 2] [--wav-clients 1]
                                               [--long-minutes 90] [--speech-dir DIR] [--long-file F]
                                               [--json out.json]

1. Makes, in a temp folder, a ``--long-minutes`` Opus file (the case in issue 21: a 90-minute
   Opus upload) and a 3-second WAV.  With ``--speech-dir`` (default: RAVDESS 16 kHz FLAC under
   ``$AFFECTLENS_DATA`` or ``../shared/datasets``, when present) the audio is real speech clips
   tiled with half-second pauses, so the job does the whole pipeline (VAD, features, model);
   without it, a synthetic harmonic signal (decoding and VAD only).  Nothing is kept.
2. Starts ``affectlens serve`` (``benchmarks/service_load.py``'s launcher), waits for ``/readyz``.
3. Phase ``quiet``: ``--text-clients`` clients POST ``/v1/analyze/text`` and ``--wav-clients``
   clients POST the WAV to ``/v1/analyze/audio``, back to back, for ``--seconds``.
4. The long file to ``/v1/analyze/audio``: must be refused at once (413, "send it as a job").
5. Phase ``with job``: the long file as ``POST /v1/jobs``; once it runs, the same clients again;
   then the job is cancelled and the time until it stops is measured.

Prints p50/p95 per request kind and phase, the status codes and the count of 5xx (must be 0;
exit status 1 otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import io
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_load import TEXTS, KeepAliveClient, _free_port, _percentile, _start_server, _stop_server, _wait_ready

RATE = 16_000


def _speech_dir(given: Path | None) -> Path | None:
    if given is not None:
        return given
    from affectlens.bench.datasets import data_root

    folder = data_root() / "ravdess_speech_16k"
    return folder if folder.is_dir() else None


def _source_audio(speech_dir: Path | None) -> tuple[np.ndarray, np.ndarray, str]:
    """(a few minutes of audio to tile, one 3-s clip, what it is)."""
    if speech_dir is not None:
        import soundfile as sf

        files = sorted(speech_dir.rglob("*.flac"))[:60]
        if files:
            pause = np.zeros(RATE // 2, np.float32)
            clips = [sf.read(str(f), dtype="float32", always_2d=True)[0].mean(axis=1) for f in files]
            tiled = np.concatenate([part for clip in clips for part in (clip, pause)])
            short = np.resize(clips[0], 3 * RATE)
            return tiled, short, f"{len(files)} RAVDESS clips from {speech_dir}, tiled"
    rng = np.random.default_rng(0)
    parts = []
    for _ in range(60):  # 2-5 s of a harmonic "voice" (f0 100-220 Hz, 4 Hz syllables), 0.5-2 s pauses
        t = np.arange(int(rng.uniform(2, 5) * RATE)) / RATE
        phase = 2 * np.pi * np.cumsum(rng.uniform(100, 220) * (1 + 0.1 * np.sin(2 * np.pi * 0.4 * t))) / RATE
        voice = sum((0.5 / k) * np.sin(k * phase) for k in range(1, 12)) * np.clip(np.sin(2 * np.pi * 4 * t), 0, None)
        parts += [(0.25 * voice).astype(np.float32), np.zeros(int(rng.uniform(0.5, 2) * RATE), np.float32)]
    tiled = np.concatenate(parts)
    return tiled, tiled[: 3 * RATE].copy(), "a synthetic harmonic signal (no speech for the VAD)"


def _write_opus(path: Path, source: np.ndarray, seconds: float) -> None:
    """``seconds`` of ``source`` repeated, as Ogg Opus (24 kbit/s), written block by block."""
    import av

    with av.open(str(path), "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=RATE)
        stream.bit_rate = 24_000
        stream.layout = "mono"
        total = int(seconds * RATE)
        block = 10 * RATE
        for start in range(0, total, block):
            indices = np.arange(start, min(total, start + block)) % source.size
            frame = av.AudioFrame.from_ndarray(source[indices][None, :], format="flt", layout="mono")
            frame.sample_rate = RATE
            frame.pts = start
            frame.time_base = fractions.Fraction(1, RATE)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def _wav_bytes(samples: np.ndarray) -> bytes:
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, samples, RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


async def _clients(client: Any, base: str, text_clients: int, wav_clients: int, wav: bytes,
                   seconds: float) -> dict[str, Any]:
    port = int(base.rsplit(":", 1)[1])
    stop = time.monotonic() + seconds
    latencies: dict[str, list[float]] = {"text": [], "wav": []}
    statuses: dict[str, Counter[int]] = {"text": Counter(), "wav": Counter()}

    async def text_client(number: int) -> None:
        connection = KeepAliveClient(port)
        i = number
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                status, _ = await connection.post_json("/v1/analyze/text", {"text": TEXTS[i % len(TEXTS)]})
            except Exception:
                statuses["text"][-1] += 1
                connection.close()
                continue
            statuses["text"][status] += 1
            latencies["text"].append((time.perf_counter() - started) * 1000)
            i += text_clients
        connection.close()

    async def wav_client() -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                response = await client.post(base + "/v1/analyze/audio",
                                             files={"file": ("short.wav", wav, "audio/wav")})
            except Exception:
                statuses["wav"][-1] += 1
                continue
            statuses["wav"][response.status_code] += 1
            latencies["wav"].append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(text_client(n) for n in range(text_clients)), *(wav_client() for _ in range(wav_clients)))
    return {kind: {"requests": len(values), "p50_ms": round(_percentile(values, 50), 1),
                   "p95_ms": round(_percentile(values, 95), 1), "max_ms": round(max(values, default=float("nan")), 1),
                   "statuses": {str(k): v for k, v in sorted(statuses[kind].items())},
                   "server_errors": sum(v for k, v in statuses[kind].items() if k >= 500 or k < 0)}
            for kind, values in latencies.items()}


async def _run(args: argparse.Namespace, long_path: Path, wav: bytes) -> dict[str, Any]:
    import httpx

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_file = tempfile.TemporaryFile()  # noqa: SIM115  (closed in finally)
    server = _start_server(port, None, args.env, log_file)
    report: dict[str, Any] = {"cpus": os.cpu_count(), "seconds": args.seconds, "text_clients": args.text_clients,
                              "wav_clients": args.wav_clients, "env": args.env}
    long_bytes = long_path.read_bytes()
    try:
        async with httpx.AsyncClient(timeout=120) as client:
            ready = await _wait_ready(client, base, server, log_file, timeout=180)
            report["model"] = ready.get("model")
            await _clients(client, base, args.text_clients, args.wav_clients, wav, 3.0)  # warm-up, loads speech
            report["quiet"] = await _clients(client, base, args.text_clients, args.wav_clients, wav, args.seconds)
            _print_phase("quiet", report["quiet"])

            started = time.perf_counter()
            refused = await client.post(base + "/v1/analyze/audio",
                                        files={"file": ("long.opus", long_bytes, "audio/ogg")})
            report["long_sync"] = {"status": refused.status_code, "seconds": round(time.perf_counter() - started, 2),
                                   "error": refused.json().get("error")}
            print(f"long file, synchronous: {refused.status_code} in {report['long_sync']['seconds']} s: "
                  f"{report['long_sync']['error']}")

            submitted = await client.post(base + "/v1/jobs", files={"file": ("long.opus", long_bytes, "audio/ogg")},
                                          data={"kind": "audio"})
            if submitted.status_code != 202:
                raise RuntimeError(f"job not accepted: {submitted.status_code} {submitted.text}")
            job_url = base + submitted.headers["location"]
            while (await client.get(job_url)).json()["status"] == "queued":
                await asyncio.sleep(0.2)
            job_started = time.perf_counter()
            report["with_job"] = await _clients(client, base, args.text_clients, args.wav_clients, wav, args.seconds)
            job = (await client.get(job_url)).json()
            report["job"] = {"status_after_phase": job["status"], "ran_s": round(time.perf_counter() - job_started, 1),
                             "fraction_done": job["progress"]["fraction"]}
            _print_phase("with job", report["with_job"])
            if job["status"] == "running":
                cancel_started = time.perf_counter()
                await client.delete(job_url)
                while (await client.get(job_url)).json()["status"] == "running":
                    await asyncio.sleep(0.1)
                report["job"]["stopped_after_cancel_s"] = round(time.perf_counter() - cancel_started, 2)
                report["job"]["final_status"] = (await client.get(job_url)).json()["status"]
            print(f"job: {report['job']}")
    finally:
        _stop_server(server, log_file, wait_s=15)
    report["server_errors"] = sum(report[phase][kind]["server_errors"] for phase in ("quiet", "with_job")
                                  if phase in report for kind in ("text", "wav"))
    print(f"5xx (and connection errors) in all phases: {report['server_errors']}")
    return report


def _print_phase(name: str, phase: dict[str, Any]) -> None:
    for kind, row in phase.items():
        print(f"{name:9s} {kind:5s} {row['requests']:5d} requests  p50 {row['p50_ms']:8.1f} ms  "
              f"p95 {row['p95_ms']:8.1f} ms  max {row['max_ms']:8.1f} ms  statuses {row['statuses']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    parser.add_argument("--text-clients", type=int, default=2)
    parser.add_argument("--wav-clients", type=int, default=1)
    parser.add_argument("--long-minutes", type=float, default=90.0)
    parser.add_argument("--speech-dir", type=Path, default=None, help="FLAC speech clips to tile (default: RAVDESS)")
    parser.add_argument("--long-file", type=Path, default=None,
                        help="use this long audio file instead of writing one (e.g. to repeat a run)")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the service (AFFECTLENS_*)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="affectlens-media-load-") as folder:
        tiled, short, what = _source_audio(_speech_dir(args.speech_dir))
        long_path = args.long_file or Path(folder) / "long.opus"
        if args.long_file is None:
            started = time.perf_counter()
            _write_opus(long_path, tiled, args.long_minutes * 60)
            print(f"audio: {what}; {args.long_minutes:g}-minute Opus of {long_path.stat().st_size / 1e6:.1f} MB "
                  f"written in {time.perf_counter() - started:.0f} s", flush=True)
        report = asyncio.run(_run(args, long_path, _wav_bytes(short)))
        report["audio"] = what
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    sys.exit(1 if report["server_errors"] else 0)


if __name__ == "__main__":
    main()
