"""The written side of the speech recipe's finalize step: docs/speech.md's measured blocks and MODEL_CARD.md.

Everything here is made from ``metrics.json`` and ``config.json`` as ``speech_finalize`` measured them
(nothing typed by hand).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[2] / "docs" / "speech.md"


def docs_measurements(metrics: dict[str, Any], config: dict[str, Any]) -> str:
    """The measured block of ``docs/speech.md`` (between its ``measurements`` markers)."""
    cv, ut = metrics["actor_independent_cv"], metrics["actor_independent_cv_utterance_norm"]
    members = ", ".join(f"{m['arch']} ({m['epochs']} epochs, seed {m['seed']})" for m in config["members"])
    functional = config.get("functional_member")
    if functional:
        members += (f", and in file mode the acoustic-functionals logistic regression (file-mode temperature "
                    f"{functional['temperature_file']})")
    if functional and functional.get("utterance_file"):
        members += (f", in utterance mode the noise-trained one on raw functionals (temperature "
                    f"{functional['temperature_utterance']})")
    return f"""Shipped members: {members};
temperature {config['temperature']}. Each fold's models never saw the 4 test actors; file/speaker
normalisation uses the test actor's 60 files (unlabelled), utterance normalisation the utterance alone.

Headline: **UAR {_pm(cv, 'uar')}** (mean ± std over 6 folds), binary arousal accuracy
{_pm(cv, 'arousal_binary_accuracy')} (file/speaker normalisation); utterance normalisation
(what a single short clip gets): UAR {_pm(ut, 'uar')}, arousal {_pm(ut, 'arousal_binary_accuracy')}.
Targets of issue #4:
{_targets_text(metrics)}

{summary_table(metrics)}

Per fold:

{fold_table(metrics)}

{member_table(metrics)}

Confusion matrix (file/speaker normalisation, summed over the folds):

{confusion_table(cv['confusion'], metrics['labels'])}
"""


def _pm(row: dict[str, Any], metric: str) -> str:
    return f"{row[metric]['mean']:.3f} ± {row[metric]['std']:.3f}"


def update_docs(metrics: dict[str, Any], config: dict[str, Any], path: Path = DOCS) -> None:
    """Rewrite the generated blocks of ``docs/speech.md`` (measurements, speed) from the metrics."""
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    blocks = {"measurements": docs_measurements(metrics, config), "speed": _speed_text(metrics) + "\n"}
    for name, body in blocks.items():
        start = text.find(f"<!-- {name}: generated")
        end = text.find(f"<!-- /{name} -->")
        if start < 0 or end < 0:
            continue
        header_end = text.index("-->", start) + 3
        text = text[:header_end] + "\n" + body + text[end:]
    path.write_text(text, encoding="utf-8")


TARGETS = {"uar": 0.60, "arousal_binary_accuracy": 0.85}  # issue #4, mean over the 6 actor-independent folds


def targets(row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target of issue #4 against the CV mean (file/speaker normalisation, clean audio)."""
    out = {metric: {"target": goal, "mean": row[metric]["mean"], "met": bool(row[metric]["mean"] >= goal)}
           for metric, goal in TARGETS.items()}
    top = row["arousal_binary_accuracy_top_label"]["mean"]
    goal = TARGETS["arousal_binary_accuracy"]
    out["arousal_binary_accuracy"]["top_label_variant"] = {"mean": top, "met": bool(top >= goal)}
    return out


def _fmt(row: dict[str, Any], metric: str) -> str:
    m = row[metric]
    return f"{m['mean']:.3f} ± {m['std']:.3f} ({m['min']:.3f}–{m['max']:.3f})"


def fold_table(metrics: dict[str, Any]) -> str:
    """Markdown: one row per fold, clean audio, both normalisation modes, plus noise and the baseline."""
    lines = ["| fold (test actors) | UAR file/speaker norm | UAR utterance norm | WAR | arousal acc (VAD sign) "
             "| arousal acc (top label) | UAR, white noise 20 dB | UAR, 10 dB |",
             "|---|---|---|---|---|---|---|---|"]
    for k, fold in sorted(metrics["folds"].items(), key=lambda kv: int(kv[0])):
        actors = "–".join(str(a) for a in (4 * int(k) + 1, 4 * int(k) + 4))
        sp, ut = fold["speaker"], fold["utterance"]
        lines.append(f"| {k} ({actors}) | {sp['uar']:.3f} | {ut['uar']:.3f} | {sp['war']:.3f} | "
                     f"{sp['arousal_binary_accuracy']:.3f} | {sp['arousal_binary_accuracy_top_label']:.3f} | "
                     f"{fold['speaker_white_noise_20db']['uar']:.3f} | {fold['speaker_white_noise_10db']['uar']:.3f} |")
    return "\n".join(lines)


def summary_table(metrics: dict[str, Any]) -> str:
    rows = [("ours, file/speaker normalisation, clean", metrics["actor_independent_cv"]),
            ("ours, utterance normalisation, clean", metrics["actor_independent_cv_utterance_norm"])]
    rows += [(f"ours, {k.replace('_', ' ')}", v) for k, v in metrics["noise"].items()]
    rows += [(f"peer: log-mel functionals + logistic regression{' (speaker z-scored)' if 'speaker' in k else ''}", v)
             for k, v in metrics["baselines"].items()]
    lines = ["| system | UAR (8 classes) | WAR | binary arousal acc (VAD sign) | binary arousal acc (top label) |",
             "|---|---|---|---|---|"]
    for name, row in rows:
        lines.append(f"| {name} | {_fmt(row, 'uar')} | {_fmt(row, 'war')} | {_fmt(row, 'arousal_binary_accuracy')} "
                     f"| {_fmt(row, 'arousal_binary_accuracy_top_label')} |")
    return "\n".join(lines)


def confusion_table(confusion: list[list[int]], labels: list[str]) -> str:
    head = "| true \\ predicted | " + " | ".join(labels) + " | recall |"
    lines = [head, "|---" * (len(labels) + 2) + "|"]
    for i, row in enumerate(confusion):
        recall = row[i] / max(sum(row), 1)
        lines.append(f"| **{labels[i]}** | " + " | ".join(str(v) for v in row) + f" | {recall:.3f} |")
    return "\n".join(lines)


def member_table(metrics: dict[str, Any]) -> str:
    """Markdown: each member alone (temperature 1) next to the ensemble, clean audio."""
    lines = ["| model | UAR, file/speaker norm | UAR, utterance norm | binary arousal acc (VAD sign) |",
             "|---|---|---|---|"]
    for run, summary in metrics["per_member"].items():
        utterance = _fmt(summary["utterance"], "uar") if "utterance" in summary else "— (file mode only)"
        lines.append(f"| member `{run}` alone | {_fmt(summary['speaker'], 'uar')} | "
                     f"{utterance} | {_fmt(summary['speaker'], 'arousal_binary_accuracy')} |")
    cv, ut = metrics["actor_independent_cv"], metrics["actor_independent_cv_utterance_norm"]
    lines.append(f"| **shipped ensemble** | {_fmt(cv, 'uar')} | {_fmt(ut, 'uar')} | "
                 f"{_fmt(cv, 'arousal_binary_accuracy')} |")
    return "\n".join(lines)


def _targets_text(metrics: dict[str, Any]) -> str:
    names = {"uar": "UAR (8 classes)", "arousal_binary_accuracy": "binary arousal accuracy"}
    lines = []
    for k, t in metrics["targets"].items():
        line = f"- {names[k]} ≥ {t['target']:.2f}: **{'met' if t['met'] else 'NOT met'}** (mean {t['mean']:.3f})"
        if "top_label_variant" in t:
            v = t["top_label_variant"]
            line += (f"; with the top label's anchor instead of the VAD sign: {'met' if v['met'] else 'not met'} "
                     f"(mean {v['mean']:.3f})")
        lines.append(line)
    return "\n".join(lines)


def _speed_text(metrics: dict[str, Any]) -> str:
    speed = metrics["speed"]
    text = (f"- Size: {metrics['size_bytes'] / 1024:.0f} KB of ONNX in all ({len(metrics['members'])} "
            f"member(s)).\n- Model alone: {speed['ms_per_3s_segment_1_thread']:.1f} ms per 3 s segment "
            f"(onnxruntime, 1 thread, all members).")
    throughput = metrics.get("throughput")
    if throughput:
        for name, run in throughput.get("runs", {}).items():
            text += (f"\n- Whole pipeline (decode + Silero VAD + features + model + prosody), {name} of audio "
                     f"({throughput.get('audio', '')}), {throughput.get('threads')} thread(s): real-time factor "
                     f"{run.get('rtf')}, peak RSS {run.get('peak_rss_mb')} MB, model load {run.get('load_s')} s "
                     f"({throughput.get('machine', '')}, `benchmarks/speech_throughput.py`).")
    return text


def model_card(metrics: dict[str, Any], config: dict[str, Any]) -> str:
    """MODEL_CARD.md text from the measured metrics (nothing typed by hand)."""
    members = "\n".join(f"- `{m['file']}`: {m['arch']}, seed {m['seed']}, {m['epochs']} epochs"
                        for m in config["members"])
    functional = config.get("functional_member")
    if functional:
        members += (f"\n- `{functional['file']}` (file mode only): logistic regression (C = 0.5, class-balanced) on "
                    "218 acoustic functionals per segment (`features/functionals.py`: pitch and loudness statistics, "
                    "voicing runs, MFCC 1–20 means/stds/deltas, log-mel band means/stds, spectral flux, alpha ratio, "
                    "Hammarberg index, centroid, aperiodicity), each z-scored against the same speaker's / file's "
                    "segments; recipe `src/affectlens_recipes/speech_functionals.py`. Unlike the networks, "
                    "this member was added *after* cross-validation results were seen: its own CV, and the rule "
                    "that combines it (the arithmetic mean of the three members' probabilities, picked among "
                    "three rules tried on the same folds), so the file-mode figures below carry a small "
                    "selection bias; its C (0.5) and features were fixed before")
    if functional and functional.get("utterance_file"):
        members += (f"\n- `{functional['utterance_file']}` (utterance mode only): the same features *raw* (a lone "
                    "clip has no baseline), logistic regression trained on every training file plus white-noise "
                    "copies at 30, 20 and 10 dB SNR; added after the file-mode member, on the same evidence (the "
                    "same folds' CV), so the same caveat applies. Trained on clean audio only, raw functionals "
                    "had collapsed under noise (UAR about 0.2 at 20 dB)")
    functional_text = ""
    if functional:
        file_temps = ", ".join(f"{v:.2f}" for v in metrics["temperature_file_crossfit_per_fold"].values())
        functional_text = (
            "\n\nIn file mode the functional member's probabilities join the networks' (each network scaled by the "
            "temperature above), and the mean is scaled by a second temperature, fitted the same way (cross-fitted "
            f"per fold: {file_temps}; shipped {functional['temperature_file']}). The functionals are z-scored "
            "against all segments of the file (std floored at half the typical within-speaker std, for files with "
            "few segments).")
        if functional.get("utterance_file"):
            utt_temps = ", ".join(f"{v:.2f}" for v in metrics["temperature_utterance_crossfit_per_fold"].values())
            functional_text += (
                " In utterance mode the utterance member joins the same way, with its own temperature (cross-fitted "
                f"per fold: {utt_temps}; shipped {functional['temperature_utterance']}).")
        else:
            functional_text += " In utterance mode there is no baseline and the networks decide alone."
    cv, ut = metrics["actor_independent_cv"], metrics["actor_independent_cv_utterance_norm"]
    norm = config["normalisation"]
    temps = ", ".join(f"{v:.2f}" for v in metrics["temperature_crossfit_per_fold"].values())
    return f"""# speech.ravdess-cnn.v1

Speech emotion recognizer: Silero VAD utterances → 64-band log-mel → small convolutional networks
(ONNX){' and logistic regressions on acoustic functionals' if functional else ''}
({metrics['size_bytes'] / 1024:.0f} KB in all) → 8 RAVDESS categories, VAD through the taxonomy,
prosodic cues. Recipe: `src/affectlens_recipes/speech.py`; usage and design: `docs/speech.md`.

## License
**CC BY-NC-SA 4.0.** The model is trained on RAVDESS (Livingstone & Russo 2018, CC BY-NC-SA 4.0), so
it inherits non-commercial use, attribution and share-alike. Cite: Livingstone SR, Russo FA (2018) The
Ryerson Audio-Visual Database of Emotional Speech and Song (RAVDESS). PLoS ONE 13(5): e0196391.
https://doi.org/10.1371/journal.pone.0196391. The bundled Silero VAD (`models/vad-silero-v6`) is MIT.

## Training data
RAVDESS speech, all 1,440 files (24 actors × 60: 8 emotions, 2 intensities, 2 sentences, 2
repetitions; neutral has 96 files, the other classes 192 each), 16 kHz mono (resampled from the
48 kHz originals, see `shared/datasets/ravdess_speech_16k/SOURCE.md`), each trimmed to its speech by
the same Silero VAD the recognizer uses. Members of the shipped ensemble (each trained on all 24
actors with the recipe below; the members and the number of epochs were fixed before any
cross-validation result was seen):
{members}

Training: AdamW lr 3e-3, weight decay 0.01, one-cycle schedule, batch 32, class-weighted
cross-entropy with label smoothing 0.1, random 2 s crops, speed perturbation 0.9/1.0/1.1, additive
white/pink noise 5–30 dB SNR, gain ±6 dB, SpecAugment; a fixed number of epochs (no early stopping),
1 CPU thread, PyTorch, exported with `torch.onnx.export(dynamo=False)`, opset 17.

## Normalisation: the only unlabelled audio used at inference
Each mel band of the log-mel input is standardised by a mean and standard deviation (std floored at
{config['normalisation']['min_std']}) computed from unlabelled audio of the *same input*, never from other inputs:

- **file mode** (used when the file or clip has ≥ {config['normalisation']['min_file_segments']} speech
  segments and ≥ {config['normalisation']['min_file_speech_s']:g} s of speech): the frames of *all speech segments
  that VAD found in the file being analysed* (the whole file, including segments after the one being
  scored). It assumes one main speaker per file. In training and CV this is "speaker mode": the
  statistics of all 60 (trimmed) files of the actor; in CV the test actor's 60 files, unlabelled.
- **utterance mode** (shorter inputs, or `normalisation="utterance"`): the frames of the segment itself.

The mode used is written in each segment's `extras.normalisation`. The prosodic cues use the same
rule: z-scores against the file's own segments (≥ {config['normalisation']['min_file_segments']} segments), else
against reference values measured on the 1,440 RAVDESS utterances (stored in `config.json`).

## Evaluation: actor-independent, 6 folds of 4 actors (1–4, 5–8, …, 21–24)
Each fold's models are trained on the other 20 actors for a fixed number of epochs; the held-out
actors are never seen in training, tuning or early stopping. The ensemble's fold score averages the
fold models' probabilities after temperature scaling; the temperature applied to fold k is fitted on
the held-out predictions of the other five folds only (per fold: {temps}). The shipped temperature
({config['temperature']}) is fitted on all six folds' held-out predictions. Noise: white noise added to the test
waveforms at the given SNR (speech power over noise power), normalisation statistics from the noisy
audio.{functional_text}

Headline (file/speaker normalisation, clean audio): **UAR {cv['uar']['mean']:.3f} ± {cv['uar']['std']:.3f}**
(8 classes, mean ± std over 6 folds), WAR {cv['war']['mean']:.3f} ± {cv['war']['std']:.3f}, binary arousal accuracy
{cv['arousal_binary_accuracy']['mean']:.3f} ± {cv['arousal_binary_accuracy']['std']:.3f}. This assumes a speaker
reference of 60 utterances covering all eight emotions. A single short clip (fewer than
{norm['min_file_segments']} segments or {norm['min_file_speech_s']:g} s of speech,
e.g. one RAVDESS file) is scored in utterance mode:
UAR {ut['uar']['mean']:.3f} ± {ut['uar']['std']:.3f}, binary arousal accuracy
{ut['arousal_binary_accuracy']['mean']:.3f} ± {ut['arousal_binary_accuracy']['std']:.3f}.

Targets of issue #4:
{_targets_text(metrics)}

{summary_table(metrics)}

Per fold (ensemble):

{fold_table(metrics)}

Members alone vs the ensemble:

{member_table(metrics)}

Binary arousal: true = sign of the arousal of the true label's taxonomy anchor (high: happy, angry,
fearful, disgust, surprised; low: neutral, calm, sad — the circumplex split; `fearful` takes the anchor
of `fear`, see docs/taxonomy.md: until December 2026 it took the word's own NRC-VAD row, just below
the midpoint, and fearful counted as low, which gave 0.788 for the v1 ensemble); predicted = sign of
the arousal the recognizer outputs (`vad_from_scores` of the probabilities), or of the top label's anchor.

Confusion matrix (file/speaker normalisation, clean, summed over the 6 folds):

{confusion_table(cv['confusion'], metrics['labels'])}

Calibration on held-out actors: ECE {metrics['calibration_oof']['ece_before']} before,
{metrics['calibration_oof']['ece_after']} after temperature scaling (cross-fitted).

## Size and speed
{_speed_text(metrics)}

## Reproduce
```bash
python -m affectlens_recipes.speech prepare --out artifacts/speech/cache
{chr(10).join(metrics.get('reproduce', []))}
```

## Limits
- Acted, read English: 24 North-American professional actors, two fixed sentences, studio audio.
  Acted emotion is exaggerated and prototypical, and models trained on it generalise poorly: expect
  much lower accuracy on spontaneous speech, other languages, other corpora, children or elderly
  voices, and telephone or reverberant audio (none of this was measured). Read the labels as
  "sounds like acted X"; the arousal axis and the prosodic cues are the more robust outputs.
- The CV figures are for utterances from speakers whose other 59 utterances (all emotions) serve as
  the normalisation reference; a file that holds one emotion throughout is normalised against that
  emotion, which removes part of the signal. Use `normalisation="utterance"` when that matters.
- File normalisation assumes one speaker per file; there is no diarisation.
- No reverberation augmentation; noise robustness was measured only with white noise.
"""
