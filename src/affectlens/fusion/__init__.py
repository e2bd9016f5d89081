"""Cross-modal late fusion, the disagreement score and textual rationales (pure functions)."""

from affectlens.fusion.late import (
    FusionConfig,
    disagreement,
    fuse_segments,
    fuse_timeline,
    js_divergence,
    modality_rationale,
    pool_window,
    rationale,
    shared_scores,
)

__all__ = [
    "FusionConfig",
    "disagreement",
    "fuse_segments",
    "fuse_timeline",
    "js_divergence",
    "modality_rationale",
    "pool_window",
    "rationale",
    "shared_scores",
]
