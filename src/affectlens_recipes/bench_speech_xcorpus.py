"""``affectlens bench speech-xcorpus``: leave-one-corpus-out and in-corpus folds, with peers.

Corpora: RAVDESS (English), ASED (Amharic), EMOVO (Italian), URDU (Urdu talk shows), from
``../shared/datasets`` (``training.speech_corpora``).  Every clip is trimmed the same way
(``audio.whisper_encoder.trim_silence``: digital-zero padding and quiet edges, which give ASED's
labels away) and its features are cached once (``training.speech_whisper_cache``, resumable).

Systems, each with the same heads recipe (``training.speech_xcorpus.fit_heads``: class- and
corpus-balanced logistic regression) and the same normalisations: ``utterance`` (one clip,
pooled corpus standardiser; training rows z-scored per corpus), ``global`` (one clip; training
rows through the same pooled standardiser), ``speaker`` (z-scored per speaker: the recognizer's file mode on a
one-speaker file) and ``corpus`` (z-scored per corpus; the held-out corpus as one "file" of many
speakers; LOCO only):

- ``whisper-base-deep``: pooled states of multilingual Whisper base's blocks 2 to 6 of 6 (ours,
  5120-d; ``audio.whisper_layers``), the features of ``speech.whisper-xcorpus.v4``;
- ``whisper-base-window``: the same blocks, each clip pooled *inside a packed 30 s window* of its
  speaker's clips (``speech_window_cache``), the rows the words path's shared encoder pass gives
  (``audio.shared_pass``; ``speech.whisper-xcorpus.v5``'s window heads);
- ``whisper-base-mid``: pooled states of multilingual Whisper base's blocks 3 and 4 of 6 (ours,
  2048-d; ``audio.whisper_layers``), the features of ``speech.whisper-xcorpus.v3``;
- ``whisper-tiny``: pooled Whisper tiny.en encoder states (last block, 768-d);
- ``whisper-base``: pooled multilingual Whisper base encoder states (1024-d; ``audio.whisper_base``);
- ``logmel``: per-band mean and std of the log-mel spectrum (128-d);
- ``egemaps``: openSMILE eGeMAPSv02 functionals (88-d; when the ``egemaps`` extra is installed);
- ``shipped-ravdess-cnn``: the shipped ``speech.ravdess-cnn.v1`` as it is (trained on all of
  RAVDESS, so only scored on the other corpora), utterance mode, argmax over each corpus's classes,
  on a fixed sample of ``SHIPPED_SAMPLE`` clips per corpus (its full pipeline is slow).

Tasks: **LOCO** (train on the other corpora, score all of the held-out one; UAR over the
classes it shares with them) and **in-corpus** speaker-independent folds (train on every other
corpus plus the other folds of the corpus; UAR per fold, mean).  Binary arousal (high:
happy, angry, fearful, disgust, surprised) is scored as UAR of the arousal head.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from affectlens_recipes.speech_corpora import CLASSES, CORPORA, LANGUAGES, load_all
from affectlens_recipes.speech_xcorpus import MODES  # LOCO; in-corpus folds: IN_CORPUS_MODES

# whisper-base-deep / -mid: multilingual base's blocks 2-6 / 3+4 of 6 (audio.whisper_layers), the features of
# speech.whisper-xcorpus.v4 / v3
FEATURE_SYSTEMS = {"whisper-base-deep": "base@2+3+4+5+6", "whisper-base-window": "base@2+3+4+5+6-window",
                   "whisper-base-mid": "base@3+4", "whisper-tiny": "clip",
                   "whisper-base": "base-clip", "logmel": "logmel", "egemaps": "egemaps"}
SHIPPED = "shipped-ravdess-cnn"
SHIPPED_SAMPLE = 300  # clips per corpus the shipped model is scored on (its full pipeline costs ~0.5 s per clip)
IN_CORPUS_MODES = ("utterance", "global", "speaker")


@dataclass
class XcorpusReport:
    loco: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # system/mode -> corpus -> scores
    in_corpus: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=dict)
    command: str = ""
    date: str = ""
    seconds: float = 0.0


def ensure_features(cache: Path, kinds: list[str], data: Path | None, threads: int,
                    on_progress: Callable[[str], None]) -> None:
    from affectlens_recipes.speech_corpora import load_corpus
    from affectlens_recipes.speech_whisper_cache import extract

    for kind in kinds:
        corpora = [c for c in CORPORA if not (kind == "shipped" and c == "ravdess")]
        for corpus in corpora:
            on_progress(f"features {kind}: {corpus}")
            if kind.endswith("-window"):  # packed windows (the words path's shared pass): their own recipe
                from affectlens_recipes import speech_window_cache

                blocks = tuple(int(b) for b in kind.split("@")[1].removesuffix("-window").split("+"))
                speech_window_cache.extract(corpus, cache, blocks, noisy=False, seed=0, data=data)
                continue
            clips = load_corpus(corpus, data)
            extract(shipped_sample(clips) if kind == "shipped" else clips, cache / kind / f"{corpus}.npz",
                    window=kind, threads=threads)


def shipped_sample(clips: list[Any]) -> list[Any]:
    """A fixed pseudo-random sample of ``SHIPPED_SAMPLE`` clips (by the sha1 of their keys), in index order."""
    import hashlib

    ranked = sorted(clips, key=lambda clip: hashlib.sha1(clip.key.encode()).hexdigest())[:SHIPPED_SAMPLE]
    chosen = {clip.key for clip in ranked}
    return [clip for clip in clips if clip.key in chosen]


def _shipped_scores(cache: Path, data: Path | None) -> dict[str, dict[str, Any]]:
    from affectlens_recipes.speech_xcorpus import load_features, uar

    out = {}
    for corpus in CORPORA:
        if corpus == "ravdess":
            continue
        rows = load_features(cache, "shipped", (corpus,), shipped_sample(load_all(data, (corpus,))))
        shared = sorted(set(rows.label.tolist()))
        pred = np.array(shared)[rows.x[:, shared].argmax(axis=1)]
        out[corpus] = {"uar": round(uar(rows.label, pred, shared), 4), "classes": [CLASSES[k] for k in shared],
                       "n": len(rows.label)}
    return out


def _augmented_copies(cache: Path, window: str, data: Path | None) -> Any:
    """The cached augmented rows (speakers suffixed: their own groups) of the corpora that have them; ``window``
    may name several cache windows, comma-separated."""
    from affectlens_recipes.speech_xcorpus import concat, load_features

    if "," in window:
        return concat([_augmented_copies(cache, w, data) for w in window.split(",")])

    corpora = tuple(c for c in CORPORA if (cache / window / f"{c}.npz").is_file())
    if not corpora:
        raise FileNotFoundError(f"no augmented copies cached under {cache / window}")
    copies = load_features(cache, window, corpora, load_all(data, corpora))
    copies.speaker = np.char.add(copies.speaker.astype(str), f":{window}")
    return copies


def is_copy_of(augment: str, window: str) -> bool:
    """Whether cache window ``augment`` holds other rows of ``window``'s clips to train on: augmented copies
    (``base@3+4-noisy`` of ``base@3+4``; ``base@3+4-window-noisy`` of ``base@3+4-window``, not of ``base@3+4``)
    or, for rows pooled inside packed windows, the same clips encoded alone (``base@3+4`` and its copies for
    ``base@3+4-window``)."""
    import re

    copy = r"(-(noisy|reverb|speed\d{2,3}))"
    if re.fullmatch(re.escape(window) + copy, augment):
        return True
    alone = window.removesuffix("-window")
    return alone != window and re.fullmatch(re.escape(alone) + copy + "?", augment) is not None


def run_xcorpus(cache: Path, *, data: Path | None = None, systems: tuple[str, ...] = (*FEATURE_SYSTEMS, SHIPPED),
                threads: int = 1, c: float = 0.05, modes: tuple[str, ...] = MODES, in_corpus: bool = True,
                augment: str | None = None, axes: str = "heads",
                on_progress: Callable[[str], None] = lambda line: None,
                on_system_done: Callable[[XcorpusReport], None] = lambda report: None) -> XcorpusReport:
    from affectlens_recipes import speech_xcorpus as sx

    started = time.time()
    report = XcorpusReport(machine={"python": platform.python_version(), "machine": platform.machine()},
                           date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    clips = load_all(data)

    def fitter(d: sx.Dataset, m: str) -> sx.Heads:
        return sx.fit_heads(d, m, c=c, axes=axes)

    for system in systems:  # each system's features are made (or found cached) just before it is scored
        ensure_features(cache, ["shipped" if system == SHIPPED else FEATURE_SYSTEMS[system]], data, threads,
                        on_progress)
        if system == SHIPPED:
            report.loco[f"{SHIPPED}/utterance"] = _shipped_scores(cache, data)
            on_system_done(report)
            continue
        rows = sx.load_features(cache, FEATURE_SYSTEMS[system], CORPORA, clips)
        fit: sx.Fitter = fitter
        suffix = ""
        # augmented copies (cache window ``augment``, whichever corpora it has) of the system whose window it extends
        if augment and all(is_copy_of(w, FEATURE_SYSTEMS[system]) for w in augment.split(",")):
            fit, suffix = sx.augmenting_fitter(fitter, _augmented_copies(cache, augment, data)), f"+{augment}"
        for mode in modes:
            key = f"{system}{suffix}{'+axes-from-emotion' if axes == 'emotion' else ''}/{mode}"
            on_progress(f"{key}: leave-one-corpus-out")
            report.loco[key] = sx.leave_one_corpus_out(rows, mode, fit)
            if in_corpus and mode in IN_CORPUS_MODES:
                on_progress(f"{key}: in-corpus folds")
                report.in_corpus[key] = {corpus: sx.in_corpus_folds(rows, corpus, mode, fitter=fit)
                                         for corpus in CORPORA}
        report.seconds = round(time.time() - started, 1)
        on_system_done(report)  # a partial report survives an interrupted run (the whole run takes many minutes)
    report.notes.append("LOCO UAR is over the classes the held-out corpus shares with the others (RAVDESS loses calm, "
                        "which only RAVDESS has); in-corpus UAR is over all of the corpus's classes.")
    report.notes.append("ASED sentences 03-07 are emotion-specific texts: its in-corpus figure may use lexical "
                        "content.")
    report.seconds = round(time.time() - started, 1)
    return report


def to_markdown(report: XcorpusReport) -> str:
    systems = sorted(report.loco, key=lambda k: (k.startswith(SHIPPED), not k.startswith("whisper-"), k))
    lines = ["| system / normalisation | " + " | ".join(f"LOCO {c} ({LANGUAGES[c]})" for c in CORPORA)
             + " | " + " | ".join(f"in-corpus {c}" for c in CORPORA) + " | LOCO arousal UAR (mean) |",
             "|---" * (2 * len(CORPORA) + 2) + "|"]
    for key in systems:
        loco = report.loco[key]
        inc = report.in_corpus.get(key, {})
        cells = [f"{loco[c]['uar']:.3f}" if c in loco else "—" for c in CORPORA]
        cells += [f"{inc[c]['uar_mean']:.3f}" if c in inc else "—" for c in CORPORA]
        arousal = [loco[c]["arousal_uar"] for c in CORPORA if c in loco and "arousal_uar" in loco[c]]
        cells.append(f"{np.mean(arousal):.3f}" if arousal else "—")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    classes = {c: len(v["classes"]) for c, v in report.loco.get("whisper-tiny/utterance", {}).items()}
    if classes:
        lines.append("")
        lines.append("UAR over the classes each held-out corpus shares with the training corpora ("
                     + ", ".join(f"{c} {n}: chance {1 / n:.2f}" for c, n in classes.items()) + ").")
    return "\n".join(lines) + "\n"


def write_report(report: XcorpusReport, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "speech-xcorpus.json", out / "speech-xcorpus.md"
    json_path.write_text(json.dumps(asdict(report), indent=1) + "\n", encoding="utf-8")
    md_path.write_text(f"# Speech across corpora ({report.date})\n\n`{report.command}`\n\n" + to_markdown(report),
                       encoding="utf-8")
    return json_path, md_path
