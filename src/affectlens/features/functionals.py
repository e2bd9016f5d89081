"""Acoustic functionals: one fixed-length vector of statistics per speech segment.

Why: a classifier over utterance-level statistics of pitch, loudness, voicing, cepstrum and
spectral shape, z-scored against the speaker's (or file's) own segments, is the classical
strong method for acted speech emotion (eGeMAPS-style; Eyben et al. 2016).  It errs
differently from the log-mel networks, so the two are ensembled (``speech.ravdess-cnn``).
These are our own definitions in plain numpy, computed from the same YIN pitch track and
log-mel spectrogram the recognizer already makes; no openSMILE binary is needed.

``acoustic_functionals(x, logmel)`` returns ``len(FUNCTIONAL_NAMES)`` finite numbers:

* pitch in semitones re 100 Hz over voiced frames: mean, std, 20/50/80th percentiles, slope
  (per second); mean absolute frame-to-frame pitch change;
* loudness (frame RMS, dBFS) over active frames: the same six statistics;
* voiced fraction, active fraction; voiced-run mean and std length (s) and runs per second;
* MFCC 1-20 (DCT-II of the log-mel frames) over active frames: means, stds and mean
  absolute frame-to-frame change;
* log-mel band means and stds over active frames (64 + 64);
* spectral flux (RMS change of the log-mel frame): the six statistics;
* alpha ratio (dB, 1-5 kHz over 50 Hz-1 kHz), a Hammarberg-style index (dB, the strongest
  bin below 2 kHz over the strongest in 2-5 kHz), spectral centroid mean and std (kHz),
  YIN aperiodicity mean and std over voiced frames.

Undefined statistics (e.g. pitch of an unvoiced segment) are 0: after z-scoring against
a baseline that is "no information", not "low pitch".
"""

from __future__ import annotations

import numpy as np

from affectlens.features.prosody import frame_rms_db, pitch_yin
from affectlens.features.spectral import N_MELS, RATE, power_spectrogram

N_MFCC = 20
_STATS = ("mean", "std", "p20", "p50", "p80", "slope")


def _names() -> tuple[str, ...]:
    names = [f"pitch_st_{s}" for s in _STATS] + [f"loudness_db_{s}" for s in _STATS]
    names += ["pitch_st_abs_delta", "voiced_fraction", "active_fraction", "voiced_run_mean_s",
              "voiced_run_std_s", "voiced_runs_per_s"]
    names += [f"mfcc{i}_{s}" for s in ("mean", "std", "abs_delta") for i in range(1, N_MFCC + 1)]
    names += [f"logmel{b}_{s}" for s in ("mean", "std") for b in range(N_MELS)]
    names += [f"flux_{s}" for s in _STATS]
    names += ["alpha_ratio_db", "hammarberg_db", "centroid_khz_mean", "centroid_khz_std",
              "aperiodicity_mean", "aperiodicity_std"]
    return tuple(names)


FUNCTIONAL_NAMES: tuple[str, ...] = _names()


def _stats(values: np.ndarray) -> list[float]:
    """mean, std, 20/50/80th percentiles and the least-squares slope per second (frames are 10 ms)."""
    v = values[np.isfinite(values)]
    if v.size < 2:
        return [0.0] * len(_STATS)
    slope = float(np.polyfit(np.arange(v.size), v, 1)[0] * 100) if v.size > 2 else 0.0
    return [float(v.mean()), float(v.std()), *(float(p) for p in np.percentile(v, [20, 50, 80])), slope]


def _dct_matrix(n_in: int = N_MELS, n_out: int = N_MFCC) -> np.ndarray:
    """The first ``n_out`` rows of the orthonormal DCT-II (scipy's ``dct(type=2, norm="ortho")``).

    Plain numpy so that the speech runtime needs no scipy.
    """
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    matrix = np.cos(np.pi * (n + 0.5) * k / n_in) * np.sqrt(2.0 / n_in)
    matrix[0] /= np.sqrt(2.0)
    return matrix


_DCT = _dct_matrix()


def _mfcc(logmel: np.ndarray) -> np.ndarray:
    dct = _DCT if logmel.shape[0] == N_MELS else _dct_matrix(logmel.shape[0])
    return np.asarray(dct @ logmel)


def acoustic_functionals(x: np.ndarray, logmel: np.ndarray) -> np.ndarray:
    """The functionals of one segment: ``x`` mono 16 kHz samples, ``logmel`` its ``log_mel(x)``."""
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    if x.size < RATE // 20 or logmel.ndim != 2 or logmel.shape[1] < 3:
        return np.zeros(len(FUNCTIONAL_NAMES))
    f0, aperiodicity = pitch_yin(x)
    db = frame_rms_db(x)
    n = min(f0.size, db.size, logmel.shape[1])
    f0, db, aperiodicity, lm = f0[:n], db[:n], aperiodicity[:n], logmel[:, :n].astype(np.float64)
    active = db > db.max() - 35.0
    voiced = (f0 > 0) & active
    semitones = np.where(voiced, 12.0 * np.log2(np.maximum(f0, 1.0) / 100.0), np.nan)
    out = _stats(semitones) + _stats(np.where(active, db, np.nan))
    delta = np.diff(semitones)
    out.append(float(np.nanmean(np.abs(delta))) if np.isfinite(delta).any() else 0.0)
    out += [float(voiced.mean()), float(active.mean())]
    edges = np.diff(np.r_[0, voiced.astype(int), 0])
    runs = (np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)) if voiced.any() else np.zeros(1)
    out += [float(runs.mean() / 100), float(runs.std() / 100), float(np.count_nonzero(runs) / (n / 100))]
    frames = active if active.sum() > 5 else np.ones(n, bool)
    mfcc = _mfcc(lm)[:, frames]
    out += list(mfcc.mean(axis=1)) + list(mfcc.std(axis=1))
    out += list(np.abs(np.diff(mfcc, axis=1)).mean(axis=1)) if mfcc.shape[1] > 2 else [0.0] * N_MFCC
    out += list(lm[:, frames].mean(axis=1)) + list(lm[:, frames].std(axis=1))
    flux = np.sqrt((np.diff(lm, axis=1) ** 2).mean(axis=0))
    out += _stats(np.where(frames[1:], flux, np.nan))
    power = power_spectrogram(x)[:n]
    freqs = np.fft.rfftfreq(512, 1 / RATE)
    spectra = power[voiced] if voiced.sum() > 3 else power[frames]
    low = spectra[:, (freqs >= 50) & (freqs < 1000)].sum()
    high = spectra[:, (freqs >= 1000) & (freqs < 5000)].sum()
    out.append(float(10 * np.log10(max(high, 1e-12) / max(low, 1e-12))))
    peak_low = spectra[:, freqs < 2000].max(axis=1)
    peak_high = spectra[:, (freqs >= 2000) & (freqs < 5000)].max(axis=1)
    out.append(float(np.mean(10 * np.log10(np.maximum(peak_low, 1e-12) / np.maximum(peak_high, 1e-12)))))
    centroid = (spectra * freqs).sum(axis=1) / np.maximum(spectra.sum(axis=1), 1e-12) / 1000
    out += [float(centroid.mean()), float(centroid.std())]
    out += _stats(np.where(voiced, aperiodicity, np.nan))[:2]
    return np.nan_to_num(np.asarray(out, dtype=np.float64))


def zscore_rows(rows: np.ndarray, *, floor: np.ndarray | None = None) -> np.ndarray:
    """Each column standardised by the rows' own mean and std (a speaker's or file's segments).

    ``floor`` bounds each column's std from below (a file with few segments has a noisy
    spread; the floor comes from the training speakers).
    """
    rows = np.asarray(rows, dtype=np.float64)
    std = rows.std(axis=0)
    if floor is not None:
        std = np.maximum(std, floor)
    return (rows - rows.mean(axis=0)) / np.maximum(std, 1e-6)
