"""``affectlens analyze`` on one audio/video file with words: a transcript, ASR or ``--words``.

Also the output format rule every ``analyze`` run shares.  Heavy modules load inside the functions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from affectlens.cli_errors import CliError

if TYPE_CHECKING:
    from affectlens.types import EmotionResult


def output_format(fmt: str | None, out: Path | None) -> str:
    """``--format``, else the ``--out`` suffix's format, else a table; parquet needs a file."""
    from affectlens import output

    fmt = fmt or (output.format_for_path(out) if out else None) or "table"
    if fmt == "parquet" and out is None:
        raise CliError("parquet output needs --out PATH")
    return fmt


def transcript_beside(media: Path) -> Path | None:
    """``clip.srt`` or ``clip.vtt`` next to an audio or video file ``clip.mp4``, announced on stderr."""
    from affectlens.audio.decode import AUDIO_SUFFIXES
    from affectlens.vision import VIDEO_SUFFIXES

    if media.suffix.lower() not in (*AUDIO_SUFFIXES, *VIDEO_SUFFIXES) or not media.is_file():
        return None
    for suffix in (".srt", ".vtt"):
        candidate = media.with_suffix(suffix)
        if candidate.is_file():
            typer.echo(f"using the transcript beside it: {candidate.name} (text, voice and faces fused per turn)",
                       err=True)
            return candidate
    return None


def run_fused(input: str, transcript: Path | None, asr_model: Path | None, fmt: str | None, out: Path | None,
              labels: str | None, plot: Path | None) -> None:
    """``analyze MEDIA --transcript/--asr-model``: text, voice and faces fused per turn."""
    from affectlens.fusion.media import analyze_media_with_transcript

    if not Path(input).is_file():
        raise CliError(f"media file not found: {input}")
    if transcript is not None:
        if not transcript.is_file():
            raise CliError(f"transcript not found: {transcript}")
        if transcript.suffix.lower() not in (".srt", ".vtt"):
            raise CliError(f"--transcript must be an .srt or .vtt file, not {transcript.name}")
        asr_model = None  # a transcript wins: it is what the user checked
    _write_media_result(input, lambda: analyze_media_with_transcript(input, transcript, asr_model=asr_model), fmt,
                        out, labels, plot, "text + voice + face per turn")


def run_words(input: str, fmt: str | None, out: Path | None, labels: str | None, plot: Path | None) -> None:
    """``analyze MEDIA --words``: per speech segment the words, the voice and their fused emotion."""
    from affectlens.fusion.speech_words import analyze_speech_with_words

    if not Path(input).is_file():
        raise CliError(f"media file not found: {input}")
    _write_media_result(input, lambda: analyze_speech_with_words(input), fmt, out, labels, plot,
                        "words + voice per speech segment")


def _write_media_result(input: str, analyse: Callable[[], EmotionResult], fmt: str | None, out: Path | None,
                        labels: str | None, plot: Path | None, plot_title: str) -> None:
    """Run ``analyse`` on one media file and write (and plot) its result in ``labels``."""
    from affectlens import output, processing

    fmt = output_format(fmt, out)
    if labels:
        processing.check_label_set(labels)
    result = processing.map_result(analyse(), labels)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    output.write_results([result], fmt, out)
    if plot is not None:
        from affectlens.timeline import plot_timeline

        plot_timeline(list(result.segments), plot, title=f"{Path(input).name}: {plot_title}")
