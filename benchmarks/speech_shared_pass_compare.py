"""The words path with one shared encoder pass vs separate passes, on the same recording (issue 23).

    AFFECTLENS_DATA=../shared/datasets python benchmarks/speech_shared_pass_compare.py [--minutes 10]

Makes ``--minutes`` of RAVDESS utterances and silences (``speech_throughput.make_long_audio``: each
speech segment one of RAVDESS's two sentences), runs ``fusion.speech_words.analyze_speech_with_words``
with ``speech.whisper-xcorpus.v5`` twice: with the transcriber attached to the model's shared pass
(``audio.shared_pass``: the default) and with a transcriber loaded on its own (Whisper's own encoder
pass, the voice from v4's lone heads).  Prints one JSON line: segments whose words are exactly one
clean RAVDESS sentence, total words, segments whose words differ, voice labels that agree, and the
wall time of each path.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SENTENCE = re.compile(r"(Kids are talking|Dogs are sitting) by the door[.!?]")


def _voice(segment: object) -> list[str]:
    return list(segment.extras["modalities"]["speech"]["labels"])  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    from speech_throughput import make_long_audio

    from affectlens.audio.transcribe import WordTranscriber
    from affectlens.fusion.speech_words import analyze_speech_with_words
    from affectlens.processing import RecognizerPool
    from affectlens.registry import load_recognizer
    from affectlens.types import Modality

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "talk.flac"
        made_of = make_long_audio(path, args.minutes)
        speech = load_recognizer("speech.whisper-xcorpus.v5")
        speech.load()
        text = RecognizerPool().get(Modality.TEXT)
        text.load()
        results, seconds = {}, {}
        for name in ("shared", "separate"):
            transcriber = WordTranscriber.default()
            if name == "separate":
                transcriber.load()  # loaded before the words path sees it: it keeps its own encoder pass
            started = time.perf_counter()
            results[name] = analyze_speech_with_words(path, speech=speech, text=text, transcriber=transcriber)
            seconds[name] = round(time.perf_counter() - started, 1)
    shared, separate = results["shared"].segments, results["separate"].segments
    passes = {name: sorted({s.extras["modalities"]["speech"]["extras"].get("encoder_pass") for s in r.segments})
              for name, r in results.items()}
    print(json.dumps({
        "audio": f"{args.minutes:g} min of {made_of}",
        "segments": [len(shared), len(separate)],
        "encoder_pass": passes,
        "one_clean_sentence": {name: sum(bool(SENTENCE.fullmatch((s.text or "").strip())) for s in r.segments)
                               for name, r in results.items()},
        "words": {name: sum(len(s.extras["words"]) for s in r.segments) for name, r in results.items()},
        "segments_whose_words_differ": sum(a.text != b.text for a, b in zip(shared, separate, strict=False)),
        "voice_labels_agree": sum(_voice(a) == _voice(b) for a, b in zip(shared, separate, strict=False)),
        "seconds": seconds,
    }))


if __name__ == "__main__":
    main()
