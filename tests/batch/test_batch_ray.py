"""The Ray engine gives the same shards as the local engine (a local Ray instance; skipped without ray)."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_helpers import MIXED_CORPUS_OPTIONS, mixed_corpus, read_output

from affectlens.batch import run_batch

pytest.importorskip("ray.data")


# ~6-12 s on 2 cores (Ray start ~5 s, actors ~5 s): under the ~20 s line for `slow`
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # raised by ray.data itself on import
def test_ray_engine_matches_local_engine_and_resumes(tmp_path: Path, tiny_text_model: Path) -> None:
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    corpus = mixed_corpus(tmp_path)
    options = MIXED_CORPUS_OPTIONS

    def model() -> TextOnnxRecognizer:
        return TextOnnxRecognizer(tiny_text_model, name="text.tiny.v1", threads=1)

    with pytest.warns(UserWarning, match="c.parquet"):
        run_batch(corpus, tmp_path / "local", model=model(), **options)
    local_shards = sorted((tmp_path / "local" / "shards").glob("part-*.parquet"))
    with pytest.warns(UserWarning, match="c.parquet"):
        summary = run_batch(corpus, tmp_path / "ray", model=model(), engine="ray", workers=2, **options)
    assert summary.resumed_units == 0
    local, ray_out = read_output(tmp_path / "local"), read_output(tmp_path / "ray")
    assert ray_out.num_rows == 160 and ray_out.equals(local)
    ray_shards = sorted((tmp_path / "ray" / "shards").glob("part-*.parquet"))
    assert [p.name for p in ray_shards] == [p.name for p in local_shards]
    assert (tmp_path / "ray" / "errors.jsonl").read_text() == (tmp_path / "local" / "errors.jsonl").read_text()
    # resume across engines: drop two shards of the ray output, finish them locally
    ray_shards[1].unlink()
    ray_shards[5].unlink()  # units: a.csv 32+32+26 rows, b.parquet 32+32+6, c.parquet (broken) 0
    again = run_batch(corpus, tmp_path / "ray", model=model(), **options)
    assert again.rows_this_run == 32 + 6 and read_output(tmp_path / "ray").equals(local)
