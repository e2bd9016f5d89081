from __future__ import annotations

import json
from pathlib import Path

import pytest

from affectlens.recognizers.text_onnx import DEFAULT_MODEL_DIR, ModelIntegrityError, TextOnnxRecognizer
from affectlens.testing import add_tiny_vad_branch, add_tiny_vad_student, check_recognizer, make_tiny_text_model


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_text_model(tmp_path_factory.mktemp("tiny-text"))


def test_top_label_and_word_cue(tiny_model_dir: Path) -> None:
    rec = TextOnnxRecognizer(tiny_model_dir, name="text.tiny.v1")
    [result] = rec.analyze(["I am so happy today"])
    seg = result.segments[0]
    assert seg.labels[0] == "joy"
    assert seg.top_label == "joy"
    cue = next(c for c in seg.cues if c.label == "joy")
    assert cue.span is not None
    assert "I am so happy today"[cue.span[0] : cue.span[1]] == "happy"
    assert seg.provenance.recognizer == "text.tiny.v1"
    assert -1.0 <= seg.vad.valence <= 1.0  # type: ignore[union-attr]


def test_a_text_that_is_not_english_is_scored_with_a_warning(tiny_model_dir: Path) -> None:
    rec = TextOnnxRecognizer(tiny_model_dir, name="text.tiny.v1")
    chinese, spanish, english = rec.analyze(["我今天很难过", "Estoy muy feliz hoy, gracias a todos", "I am so happy"])
    assert chinese.segments and "mostly in the Han script" in chinese.warnings[0]
    assert spanish.segments and "looks Spanish, by its words (not English)" in spanish.warnings[0]
    assert english.warnings == ()


def test_long_text_is_windowed_not_truncated(tiny_model_dir: Path) -> None:
    # Since #24's long-text item a long text is a document aggregate followed by a segment
    # per window (tests/recognizers/test_text_windows.py); before, it was one segment whose
    # logits were the maximum over overlapping windows.
    rec = TextOnnxRecognizer(tiny_model_dir, max_tokens=8)
    text = " ".join(["the day was"] * 30) + " and I am furious"
    [result] = rec.analyze([text])
    seg = result.segments[0]
    assert seg.extras["windows"] == len(result.segments) - 1 > 1
    last = result.segments[-1]
    spans = [text[c.span[0] : c.span[1]] for c in last.cues if c.span]
    assert "furious" in spans  # the last word, far past the first window, still counts


def test_one_pass_gives_the_results_and_turn_features_of_two(tiny_model_dir: Path) -> None:
    from affectlens.dialogue.cause_spans import encode_turn_from_states, encode_turns

    rec = TextOnnxRecognizer(tiny_model_dir, max_tokens=8, batch_size=2)
    texts = ["I am so happy today", "wow", " ".join(["the day was"] * 10) + " and I am furious", "I am sad"]
    encoded = rec.analyze_with_turn_features(texts)
    expected_features, _ = rec.turn_features(texts, max_tokens=8)
    assert encoded.features.shape == expected_features.shape
    assert abs(encoded.features - expected_features).max() < 1e-4  # the long text: its first window only
    # analyze() reads a text longer than one window as sentence windows + an aggregate; the
    # conversation pass keeps one segment per turn (overlapping windows), so compare the rest
    short = [0, 1, 3]
    for one, other in zip([encoded.results[i] for i in short], rec.analyze([texts[i] for i in short]),
                          strict=True):
        assert one.segments[0].labels == other.segments[0].labels
        assert one.segments[0].vad == pytest.approx(other.segments[0].vad, abs=1e-5)
        assert [c.phrase for c in one.segments[0].cues] == [c.phrase for c in other.segments[0].cues]
    # the cause-span words of a turn read whole by the pass equal encode_turns'; a longer turn has none
    assert encoded.pieces[2] is None
    for text, pieces, expected in zip(texts, encoded.pieces, encode_turns(rec, texts), strict=True):
        if pieces is not None:
            got = encode_turn_from_states(text, pieces.encoding, pieces.hidden_layer3, pieces.token_logits)
            assert got.units == expected.units
            assert abs(got.states - expected.states).max() < 1e-4
    empty = rec.analyze_with_turn_features([])
    assert empty.results == [] and empty.features.size == 0 and empty.pieces == []
    with pytest.raises(ValueError, match="non-empty"):
        rec.analyze_with_turn_features(["fine", "  "])


def test_bad_items_give_empty_results_in_order(tiny_model_dir: Path) -> None:
    rec = TextOnnxRecognizer(tiny_model_dir)
    results = rec.analyze(["I am sad", "", "   ", 42, "wow"])
    assert [len(r.segments) for r in results] == [1, 0, 0, 0, 1]
    assert results[1].warnings and results[3].warnings
    assert results[4].segments[0].labels[0] == "surprise"


def test_results_keep_the_input_order_though_made_as_batches_finish(tiny_model_dir: Path) -> None:
    rec = TextOnnxRecognizer(tiny_model_dir, max_tokens=8, batch_size=2)
    texts = ["I am so happy today", "wow", "", " ".join(["the day was"] * 10) + " and I am furious", "I am sad", "ok"]
    together = rec.analyze(texts)
    alone = [rec.analyze([text])[0] for text in texts]
    assert [len(r.segments) for r in together] == [1, 1, 0, 7, 1, 1]  # the long one: a document + 6 windows
    for got, expected in zip(together, alone, strict=True):
        assert [s.labels for s in got.segments] == [s.labels for s in expected.segments]
        for a, b in zip(got.segments, expected.segments, strict=True):
            assert a.scores == pytest.approx(b.scores, abs=1e-5)
    # the stream: every text that fits one window once, shortest batches first; the others named in too_long
    too_long: list[int] = []
    seen = [t for t, _ in rec._infer_stream([t for t in texts if t], too_long=too_long)]
    assert sorted(seen) == [0, 1, 3, 4] and too_long == [2]
    assert seen.index(1) < seen.index(0)  # "wow" is in the first batch


def test_hash_mismatch_is_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    for name in ("model.onnx", "tokenizer.json", "config.json"):
        (tmp_path / name).write_bytes((tiny_model_dir / name).read_bytes())
    (tmp_path / "tokenizer.json").write_text((tmp_path / "tokenizer.json").read_text() + " ")
    with pytest.raises(ModelIntegrityError):
        TextOnnxRecognizer(tmp_path).load()


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelIntegrityError, match=r"config\.json"):
        TextOnnxRecognizer(tmp_path).load()


def test_contract(tiny_model_dir: Path) -> None:
    check_recognizer(TextOnnxRecognizer(tiny_model_dir, name="text.tiny.v1"),
                     factory=lambda: TextOnnxRecognizer(tiny_model_dir, name="text.tiny.v1"))


@pytest.mark.skipif(not (DEFAULT_MODEL_DIR / "model.onnx").exists(), reason="shipped model not built")
def test_shipped_model_recognises_plain_emotions() -> None:
    rec = TextOnnxRecognizer()
    results = rec.analyze(["Thank you so much, this is wonderful!", "I am so angry at you right now.",
                           "This is terrifying, I am scared."])
    tops = [r.segments[0].labels for r in results]
    assert "gratitude" in tops[0]
    assert "anger" in tops[1] or "annoyance" in tops[1]
    assert "fear" in tops[2] or "nervousness" in tops[2]
    assert results[0].segments[0].vad.valence > results[1].segments[0].vad.valence  # type: ignore[union-attr]


@pytest.mark.skipif(not (DEFAULT_MODEL_DIR / "model.onnx").exists(), reason="shipped model not built")
def test_shipped_model_scores_do_not_depend_on_the_batch() -> None:
    # dynamic activation quantization made 13% of label sets change with batch neighbours;
    # the shipped weight-only int8 model must give each text the same scores alone or batched
    texts = ["ok", "Thank you so much, this is wonderful!",
             "I waited an hour on the phone and nobody helped. This is unacceptable and I am furious. " * 3,
             "meh", "What a surprise to see you here, I had no idea you were in town!"]
    rec = TextOnnxRecognizer()
    batched = rec.analyze(texts)
    for text, together in zip(texts, batched, strict=True):
        alone = rec.analyze([text])[0]
        assert alone.segments[0].labels == together.segments[0].labels
        for label, score in together.segments[0].scores.items():
            assert alone.segments[0].scores[label] == pytest.approx(score, abs=1e-5)


@pytest.fixture(scope="module")
def branched_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = make_tiny_text_model(tmp_path_factory.mktemp("tiny-text-branch"))
    return add_tiny_vad_branch(folder, {"joy": 1.0, "sadness": -1.0}, bias=(0.0, 0.3, -0.2))


def test_vad_student_reads_the_word_pieces_and_replaces_only_vad(tiny_model_dir: Path, tmp_path: Path) -> None:
    student_dir = add_tiny_vad_student(make_tiny_text_model(tmp_path / "student"), per_token=(0.1, 0.0, 0.0))
    texts = ["wow", "I am sad"]
    with_student = TextOnnxRecognizer(student_dir).analyze(texts)
    # [CLS] + pieces + [SEP]: 3 and 5 word pieces
    assert [r.segments[0].vad.valence for r in with_student] == pytest.approx([0.3, 0.5])  # type: ignore[union-attr]
    assert all(r.segments[0].vad.arousal == pytest.approx(0.0) for r in with_student)  # type: ignore[union-attr]
    plain = TextOnnxRecognizer(tiny_model_dir).analyze(texts)
    assert [r.segments[0].scores for r in plain] == [r.segments[0].scores for r in with_student]


def _with_config(folder: Path, **entries: object) -> Path:
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    for key, value in entries.items():
        if key == "blend":
            config["vad_branch"]["blend"] = value
        else:
            config[key] = value
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def test_vad_student_blends_with_the_main_vad_per_dimension(tiny_model_dir: Path, tmp_path: Path) -> None:
    texts = ["wow", "I am sad", "I am so happy today"]
    plain = [r.segments[0].vad for r in TextOnnxRecognizer(tiny_model_dir).analyze(texts)]
    alone_dir = add_tiny_vad_student(make_tiny_text_model(tmp_path / "alone"), per_token=(0.05, -0.04, 0.0))
    alone = [r.segments[0].vad for r in TextOnnxRecognizer(alone_dir).analyze(texts)]
    student = add_tiny_vad_student(make_tiny_text_model(tmp_path / "blend"), per_token=(0.05, -0.04, 0.0))
    blend_dir = _with_config(student, blend=[0.25, 1.0, 0.0])
    blended = [r.segments[0].vad for r in TextOnnxRecognizer(blend_dir).analyze(texts)]
    for p, a, b in zip(plain, alone, blended, strict=True):
        assert p is not None and a is not None and b is not None
        assert b.valence == pytest.approx(0.75 * p.valence + 0.25 * a.valence, abs=1e-5)
        assert b.arousal == pytest.approx(a.arousal, abs=1e-5)
        assert b.dominance == pytest.approx(p.dominance, abs=1e-5)
    assert [a.valence for a in alone] != pytest.approx([p.valence for p in plain])  # type: ignore[union-attr]


@pytest.mark.parametrize("blend", [[0.5, 0.5], [0.2, 1.5, 0.0], "half"])
def test_a_malformed_blend_is_refused(tmp_path: Path, blend: object) -> None:
    folder = _with_config(add_tiny_vad_student(make_tiny_text_model(tmp_path / "m")), blend=blend)
    with pytest.raises(ValueError, match="blend"):
        TextOnnxRecognizer(folder).load()


def test_the_configs_session_entries_reach_onnxruntime_unless_overridden(tmp_path: Path) -> None:
    folder = _with_config(make_tiny_text_model(tmp_path / "s"),
                          onnxruntime_session_config={"session.disable_quant_qdq": "1"})
    rec = TextOnnxRecognizer(folder)
    rec.load()
    assert rec._session.get_session_options().get_session_config_entry("session.disable_quant_qdq") == "1"
    fused = TextOnnxRecognizer(folder, session_config={})
    fused.load()
    with pytest.raises(Exception, match="disable_quant_qdq"):
        fused._session.get_session_options().get_session_config_entry("session.disable_quant_qdq")
    assert [r.segments[0].labels for r in rec.analyze(["I am sad"])] == \
        [r.segments[0].labels for r in fused.analyze(["I am sad"])]
    # the spinning entry is the thread layout's (tests/test_runtime_threads.py), never the config's


def test_a_model_with_a_vad_branch_runs_both_sessions_without_spinning(tmp_path: Path) -> None:
    rec = TextOnnxRecognizer(add_tiny_vad_student(make_tiny_text_model(tmp_path / "b")))
    rec.load()
    for session in (rec._session, rec._vad_session):
        assert session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_vad_branch_replaces_the_head_vad(tiny_model_dir: Path, branched_model_dir: Path) -> None:
    texts = ["I am so happy today", "I am sad", "wow"]
    plain = [r.segments[0].vad for r in TextOnnxRecognizer(tiny_model_dir).analyze(texts)]
    branched = [r.segments[0].vad for r in TextOnnxRecognizer(branched_model_dir).analyze(texts)]
    assert branched[0].valence > 0.1 > -0.1 > branched[1].valence  # type: ignore[union-attr]
    assert all(v.arousal == pytest.approx(0.3) and v.dominance == pytest.approx(-0.2)  # type: ignore[union-attr]
               for v in branched)
    assert [v.arousal for v in plain] != [v.arousal for v in branched]  # type: ignore[union-attr]
    # the emotions do not change: the branch only replaces VAD
    rec_plain, rec_branch = TextOnnxRecognizer(tiny_model_dir), TextOnnxRecognizer(branched_model_dir)
    assert [r.segments[0].labels for r in rec_plain.analyze(texts)] == \
        [r.segments[0].labels for r in rec_branch.analyze(texts)]
    # the conversation model's features are the main graph's; its VAD is the branch's
    features_plain, _ = rec_plain.turn_features(texts)
    features_branch, vad = rec_branch.turn_features(texts)
    assert (features_plain == features_branch).all()
    assert vad[0, 0] > 0.1 > -0.1 > vad[1, 0]


def test_tampered_vad_branch_is_refused(branched_model_dir: Path, tmp_path: Path) -> None:
    for path in branched_model_dir.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "vad_branch.onnx").write_bytes((tmp_path / "vad_branch.onnx").read_bytes() + b"\0")
    with pytest.raises(ModelIntegrityError, match="vad_branch"):
        TextOnnxRecognizer(tmp_path).load()


def test_the_shipped_folder_runs_the_static_graph_and_offers_the_float_one() -> None:
    from affectlens.recognizers.text_onnx import FLOAT_NAME, create, create_float

    if not (DEFAULT_MODEL_DIR / "model_static.onnx").is_file():
        pytest.skip("shipped text model not present")
    default, plain = create(threads=1), create_float(threads=1)
    assert default.config.model_file == "model_static.onnx" and plain.config.model_file == "model.onnx"
    entries = plain._session.get_session_options()
    assert entries.get_session_config_entry("session.disable_quant_qdq") == "1"
    [a], [b] = default.analyze(["Thank you so much!"]), plain.analyze(["Thank you so much!"])
    assert a.segments[0].top_label == b.segments[0].top_label == "gratitude"
    assert b.segments[0].provenance.recognizer == FLOAT_NAME
    assert a.segments[0].vad != b.segments[0].vad  # the student's VAD is blended in only by the default


def test_a_missing_config_file_is_named(tiny_model_dir: Path) -> None:
    from affectlens.recognizers.text_onnx import ModelFilesMissing

    with pytest.raises(ModelFilesMissing, match="config_float"):
        TextOnnxRecognizer(tiny_model_dir, config_file="config_float.json").load()


def test_occlusion_cues_are_the_probability_each_deleted_word_takes_away(tiny_model_dir: Path) -> None:
    text = "I am so happy today"
    rec = TextOnnxRecognizer(tiny_model_dir, cues="occlusion")
    [result] = rec.analyze([text])
    seg = result.segments[0]
    assert seg.extras["cue_method"] == "occlusion"
    top = next(c for c in seg.cues if c.label == "joy")
    assert top.span is not None and text[top.span[0] : top.span[1]] == "happy"
    [without] = TextOnnxRecognizer(tiny_model_dir).analyze(["I am so today"])
    assert top.weight == pytest.approx(seg.scores["joy"] - without.segments[0].scores["joy"], abs=1e-5)
    plain = TextOnnxRecognizer(tiny_model_dir).analyze([text])[0].segments[0]
    assert plain.scores == seg.scores and "cue_method" not in plain.extras  # only the cues differ


def test_occlusion_falls_back_for_long_texts_and_scores_many_texts_in_bounded_passes(
        tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import affectlens.recognizers.text_onnx as text_onnx

    monkeypatch.setattr(text_onnx, "OCCLUSION_VARIANTS_PER_PASS", 5)
    rec = TextOnnxRecognizer(tiny_model_dir, cues="occlusion", max_tokens=8)
    long = " ".join(["the day was"] * 10) + " and I am furious"
    texts = ["I am so happy today", "I am sad", long, "wow", "I am so happy today"]
    results = rec.analyze(texts)
    assert [r.segments[0].extras["cue_method"] for r in results] == \
        ["occlusion", "occlusion", "decomposition", "occlusion", "occlusion"]
    assert [c.phrase for c in results[0].segments[0].cues] == [c.phrase for c in results[4].segments[0].cues]
    assert results[3].segments[0].cues[0].span == (0, 3)  # one word: scored against the empty text
    with pytest.raises(ValueError, match="cues must be one of"):
        TextOnnxRecognizer(tiny_model_dir, cues="gradients")
