"""Streaming audio over a WebSocket: the protocol (framing, controls, per-segment messages).

Protocol of ``/v1/stream/audio`` (see ``docs/service.md``):

* the client sends BINARY messages of raw PCM: 16 kHz, signed 16-bit little-endian, mono,
  any length (an odd trailing byte is kept for the next message); TEXT messages are JSON
  controls: ``{"type": "end"}`` ends the stream (the open segment is flushed);
* the server first sends ``{"type": "ready", ...}`` naming the speech recognizer (or
  ``null`` with a warning), then one ``{"type": "segment", "index", "start", "end",
  "result"}`` per detected speech segment, in order, as soon as it is analysed, and
  ``{"type": "done", ...}`` before closing; problems are ``{"type": "error", "error"}``.

Decision: with no speech recognizer installed the connection is still accepted and every
segment is reported with its times and an empty result whose warning says "no speech
recognizer installed" -- clients can be written (and tested) against the final protocol
today, and gain emotions when the recognizer lands, with no change.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

# the segmentation and the per-segment walk are the processing layer's (``audio.live``); this
# module is the WebSocket protocol only
from affectlens.audio.live import NO_RECOGNIZER as NO_RECOGNIZER
from affectlens.audio.live import SAMPLE_RATE as SAMPLE_RATE
from affectlens.audio.live import EnergySegmenter as EnergySegmenter
from affectlens.audio.live import SpeechSegment as SpeechSegment
from affectlens.audio.live import recognize_segment as recognize_segment
from affectlens.protocols import Recognizer


async def run_stream(
    websocket: Any,
    *,
    recognizer: Recognizer | None,
    executor: Any,
    max_seconds: float,
    max_message_bytes: int,
    labels: str | None = None,
    segmenter_factory: Callable[[], EnergySegmenter] = EnergySegmenter,
) -> None:
    """Serve one accepted WebSocket until the client ends the stream or goes away."""
    from starlette.websockets import WebSocketDisconnect

    from affectlens.processing import map_result

    loop = asyncio.get_running_loop()
    segmenter = segmenter_factory()
    queue: asyncio.Queue[SpeechSegment | None] = asyncio.Queue()
    sent = 0

    async def sender() -> None:
        nonlocal sent
        while (segment := await queue.get()) is not None:
            result = await loop.run_in_executor(executor, recognize_segment, recognizer, segment)
            await websocket.send_json({
                "type": "segment", "index": segment.index, "start": segment.start, "end": segment.end,
                "result": map_result(result, labels).to_dict(),
            })
            sent += 1

    ready: dict[str, Any] = {"type": "ready", "sample_rate": SAMPLE_RATE, "encoding": "pcm_s16le", "channels": 1,
                             "recognizer": recognizer.name if recognizer else None}
    if recognizer is None:
        ready["warning"] = f"{NO_RECOGNIZER}: segments are reported with their times and no emotions"
    await websocket.send_json(ready)
    task = asyncio.create_task(sender())
    close_code = 1000
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            data: bytes | None = message.get("bytes")
            text: str | None = message.get("text")
            if data is not None:
                if len(data) > max_message_bytes:
                    too_big = f"message larger than {max_message_bytes} bytes"
                    await websocket.send_json({"type": "error", "error": too_big})
                    close_code = 1009
                    break
                for segment in segmenter.push_pcm16(data):
                    queue.put_nowait(segment)
                if segmenter.seconds > max_seconds:
                    await websocket.send_json({"type": "error", "error": f"stream longer than {max_seconds:g} s"})
                    close_code = 1008
                    break
            elif text is not None:
                try:
                    control = json.loads(text)
                except ValueError:
                    await websocket.send_json({"type": "error", "error": "text messages must be JSON controls"})
                    continue
                if isinstance(control, dict) and control.get("type") == "end":
                    break
                await websocket.send_json({"type": "error",
                                           "error": 'unknown control; send binary PCM16 audio or {"type": "end"}'})
        for segment in segmenter.flush():
            queue.put_nowait(segment)
        queue.put_nowait(None)
        await task
        await websocket.send_json({"type": "done", "segments": sent, "seconds": round(segmenter.seconds, 3)})
        await websocket.close(code=close_code)
    except WebSocketDisconnect:
        task.cancel()
    except BaseException:
        task.cancel()
        raise
