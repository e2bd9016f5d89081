"""Prosody: pitch, loudness, speaking rate and voice quality, and cues relative to a baseline.

Why these and why so: they are what a listener hears change when someone gets angry or
sad, and what a user can check by ear.  Everything is a pure numpy function of a mono
signal (no model, no librosa: ``librosa.pyin`` is a slow probabilistic tracker with a
long JIT warm-up; this vectorised YIN is measured in ``benchmarks/speech_throughput.py``).

* ``pitch_yin``: YIN (de Cheveigne & Kawahara 2002) vectorised over frames with FFT
  correlation: 25 ms integration window, 10 ms hop, 60-500 Hz, cumulative mean
  normalised difference, first dip below ``threshold``, parabolic refinement.
* ``prosody_features``: per segment, ``pitch_median_st`` (semitones re 100 Hz) and
  ``pitch_range_st`` (10th-90th percentile, semitones), ``loudness_db`` (mean frame RMS
  of voiced frames, dBFS) and ``loudness_range_db``, ``speaking_rate`` (loudness peaks in
  voiced stretches per second: a syllable-rate proxy), ``jitter_pct`` and ``shimmer_pct``
  (frame-to-frame period and amplitude perturbation of voiced frames: frame-level
  approximations, not Praat's cycle-to-cycle measures), ``alpha_ratio_db`` (spectral
  tilt: energy 1-5 kHz over 50 Hz-1 kHz; higher = tenser, louder voice) and
  ``voiced_fraction``.
* ``Baseline`` + ``prosody_cues``: each feature as a z-score against the median and
  spread of the speaker's / file's own segments (or, with too few segments, against
  reference values measured on the training corpus), as a phrase: "pitch +1.8 SD above
  this file's median".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from affectlens.features.spectral import frames as _frames
from affectlens.features.spectral import power_spectrogram

RATE = 16_000
HOP = 160  # 10 ms

#: feature -> (phrase noun, word for +, word for -, smallest spread that counts (guards tiny baselines))
FEATURES: Mapping[str, tuple[str, str, str, float]] = {
    "pitch_median_st": ("pitch", "above", "below", 0.75),
    "pitch_range_st": ("pitch range", "wider than", "narrower than", 0.75),
    "loudness_db": ("loudness", "above", "below", 1.5),
    "loudness_range_db": ("loudness range", "wider than", "narrower than", 1.5),
    "speaking_rate": ("speaking rate", "faster than", "slower than", 0.3),
    "alpha_ratio_db": ("spectral tilt (voice tension)", "flatter than", "steeper than", 1.0),
    "jitter_pct": ("jitter", "above", "below", 0.3),
    "shimmer_pct": ("shimmer", "above", "below", 1.0),
}
#: features whose rise goes with higher arousal (used to sign cue weights)
AROUSAL_SIGN: Mapping[str, float] = {
    "pitch_median_st": 1.0, "pitch_range_st": 1.0, "loudness_db": 1.0, "loudness_range_db": 1.0,
    "speaking_rate": 1.0, "alpha_ratio_db": 1.0, "jitter_pct": 0.0, "shimmer_pct": 0.0,
}


def pitch_yin(x: np.ndarray, sr: int = RATE, *, fmin: float = 60.0, fmax: float = 500.0, window: int = 400,
              hop: int = HOP, threshold: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """(f0 in Hz with 0 where unvoiced, aperiodicity in [0, 1]) per 10 ms frame (centred frames)."""
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    tau_min = max(2, int(sr / fmax))
    tau_max = int(np.ceil(sr / fmin))
    length = window + tau_max
    n_fft = 1 << int(np.ceil(np.log2(length)))
    frames = _frames(x, win=length, hop=hop, center=True).astype(np.float64)
    head = np.zeros_like(frames)
    head[:, :window] = frames[:, :window]
    spec = np.fft.rfft(frames, n=n_fft, axis=1)
    acf = np.fft.irfft(np.conj(np.fft.rfft(head, n=n_fft, axis=1)) * spec, n=n_fft, axis=1)[:, : tau_max + 1]
    sq = np.concatenate([np.zeros((frames.shape[0], 1)), np.cumsum(frames**2, axis=1)], axis=1)
    energy0 = sq[:, window][:, None]
    lags = np.arange(tau_max + 1)
    energy_tau = sq[:, lags + window] - sq[:, lags]
    diff = np.maximum(energy0 + energy_tau - 2.0 * acf, 0.0)
    cumulative = np.cumsum(diff[:, 1:], axis=1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] * lags[1:] / np.maximum(cumulative, 1e-12)
    band = cmnd[:, tau_min : tau_max + 1]
    below = band < threshold
    has = below.any(axis=1)
    first = np.argmax(below, axis=1)
    rising = np.ones_like(below)
    rising[:, :-1] = band[:, 1:] >= band[:, :-1]
    candidates = rising & (np.arange(band.shape[1])[None, :] >= first[:, None])
    idx = np.where(has, np.argmax(candidates, axis=1), np.argmin(band, axis=1))
    rows = np.arange(band.shape[0])
    left = band[rows, np.maximum(idx - 1, 0)]
    mid = band[rows, idx]
    right = band[rows, np.minimum(idx + 1, band.shape[1] - 1)]
    denom = left - 2 * mid + right
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
    period = tau_min + idx + np.clip(shift, -1.0, 1.0)
    aperiodicity = np.clip(mid, 0.0, 1.0)
    silent = energy0[:, 0] < 1e-7 * window
    voiced = has & ~silent
    f0 = np.where(voiced, sr / np.maximum(period, 1e-6), 0.0)
    return f0.astype(np.float32), np.where(silent, 1.0, aperiodicity).astype(np.float32)


def frame_rms_db(x: np.ndarray, *, win: int = 400, hop: int = HOP) -> np.ndarray:
    """Frame RMS in dBFS (floor -100 dB), centred 25 ms frames every 10 ms."""
    fr = _frames(np.asarray(x, np.float32), win=win, hop=hop, center=True)
    rms = np.sqrt(np.mean(fr.astype(np.float64) ** 2, axis=1))
    return (20.0 * np.log10(np.maximum(rms, 1e-5))).astype(np.float32)


def _peaks(env: np.ndarray, mask: np.ndarray, prominence: float = 2.0, reach: int = 5) -> int:
    """Local maxima of ``env`` inside ``mask`` that rise ``prominence`` dB above the lowest point within ``reach``."""
    count = 0
    n = env.size
    for i in range(1, n - 1):
        if not mask[i] or env[i] < env[i - 1] or env[i] <= env[i + 1]:
            continue
        lo, hi = max(0, i - reach), min(n, i + reach + 1)
        if env[i] - env[lo:i].min() >= prominence and env[i] - env[i + 1:hi].min() >= prominence:
            count += 1
    return count


def prosody_features(x: np.ndarray, sr: int = RATE) -> dict[str, float]:
    """The segment's prosodic features (NaN where undefined, e.g. pitch of an unvoiced segment)."""
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    if sr != RATE:
        raise ValueError(f"prosody_features expects {RATE} Hz audio, got {sr} Hz (resample first)")
    nan = float("nan")
    out = dict.fromkeys(FEATURES, nan)
    out["voiced_fraction"] = 0.0
    if x.size < RATE // 10:
        return out
    f0, _ = pitch_yin(x, sr)
    db = frame_rms_db(x)
    n = min(f0.size, db.size)
    f0, db = f0[:n], db[:n]
    active = db > (db.max() - 35.0)
    voiced = (f0 > 0) & active
    out["voiced_fraction"] = float(voiced.mean()) if n else 0.0
    duration = x.size / sr
    smooth = np.convolve(db, np.ones(5) / 5.0, mode="same")
    out["speaking_rate"] = _peaks(smooth, voiced) / duration
    if voiced.sum() >= 5:
        st = 12.0 * np.log2(f0[voiced] / 100.0)
        out["pitch_median_st"] = float(np.median(st))
        out["pitch_range_st"] = float(np.percentile(st, 90) - np.percentile(st, 10))
        vdb = db[voiced]
        out["loudness_db"] = float(vdb.mean())
        out["loudness_range_db"] = float(np.percentile(db[active], 90) - np.percentile(db[active], 10))
        # frame-to-frame perturbation over consecutive voiced frames
        pairs = voiced[1:] & voiced[:-1]
        if pairs.sum() >= 3:
            periods = 1.0 / np.where(f0 > 0, f0, 1.0)
            out["jitter_pct"] = float(100 * np.mean(np.abs(np.diff(periods)[pairs])) / np.mean(periods[voiced]))
            amp = 10 ** (db / 20.0)
            out["shimmer_pct"] = float(100 * np.mean(np.abs(np.diff(amp)[pairs])) / np.mean(amp[voiced]))
        power = power_spectrogram(x)[:n]
        freqs = np.fft.rfftfreq(512, 1 / sr)
        low = power[voiced][:, (freqs >= 50) & (freqs < 1000)].sum()
        high = power[voiced][:, (freqs >= 1000) & (freqs < 5000)].sum()
        out["alpha_ratio_db"] = float(10 * np.log10(max(high, 1e-12) / max(low, 1e-12)))
    else:
        active_db = db[active]
        out["loudness_db"] = float(active_db.mean()) if active_db.size else nan
    return out


@dataclass(frozen=True)
class Baseline:
    """Reference median and spread of each feature, and what they describe ("this file's median")."""

    median: Mapping[str, float]
    spread: Mapping[str, float]
    reference: str

    @classmethod
    def from_segments(cls, rows: Sequence[Mapping[str, float]], reference: str = "this file's median") -> Baseline:
        """Median and robust spread (1.4826 x MAD, floored per feature) over the segments' features."""
        median: dict[str, float] = {}
        spread: dict[str, float] = {}
        for name, (_, _, _, floor) in FEATURES.items():
            values = np.array([r.get(name, np.nan) for r in rows], dtype=np.float64)
            values = values[np.isfinite(values)]
            if values.size == 0:
                continue
            med = float(np.median(values))
            median[name] = med
            spread[name] = max(float(1.4826 * np.median(np.abs(values - med))), floor)
        return cls(median, spread, reference)


def zscores(features: Mapping[str, float], baseline: Baseline) -> dict[str, float]:
    out: dict[str, float] = {}
    for name in FEATURES:
        value = features.get(name, np.nan)
        if name in baseline.median and np.isfinite(value):
            out[name] = float((value - baseline.median[name]) / baseline.spread[name])
    return out


def cue_phrase(name: str, z: float, reference: str) -> str:
    noun, up, down, _ = FEATURES[name]
    return f"{noun} {z:+.1f} SD {up if z >= 0 else down} {reference}"


@dataclass(frozen=True)
class ProsodyCue:
    feature: str
    z: float
    phrase: str
    arousal_direction: float  # +1: this deviation goes with higher arousal, -1 lower, 0 not arousal-related


def prosody_cues(features: Mapping[str, float], baseline: Baseline, *, min_abs_z: float = 0.5,
                 limit: int = 4) -> list[ProsodyCue]:
    """The features that deviate most from the baseline (|z| >= ``min_abs_z``), strongest first."""
    z = zscores(features, baseline)
    ranked = sorted((k for k in z if abs(z[k]) >= min_abs_z), key=lambda k: -abs(z[k]))[:limit]
    return [ProsodyCue(k, round(z[k], 2), cue_phrase(k, z[k], baseline.reference),
                       float(np.sign(z[k]) * AROUSAL_SIGN.get(k, 0.0))) for k in ranked]
