"""The fusion head's recipe on tiny fixtures: the fit, the graph surgery, the in-the-wild split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("scipy")

from affectlens.features.face_geometry import GEOMETRY_FEATURES
from affectlens.model_folder import ModelFilesError
from affectlens.recognizers.face_onnx import FaceOnnxRecognizer
from affectlens.testing import make_tiny_face_model
from affectlens_recipes.face_fusion import Head, export, fit_softmax, macro_f1_over, softmax
from affectlens_recipes.face_fusion_cache import appearance, feature_session, int8_model_folder, wild_split

TINY_FEATURES = "f"  # the tiny test CNN's flattened global average pool (4 values)


def test_soft_target_regression_learns_a_separable_rule() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 3))
    labels = (x[:, 0] > 0).astype(int)
    targets = np.eye(2)[labels] * 0.9 + 0.05  # soft targets, as FER+ votes are
    weight, bias = fit_softmax(x, targets, np.ones(len(x)), l2=1e-3)
    pred = (x @ weight + bias).argmax(axis=1)
    assert (pred == labels).mean() > 0.97
    assert weight[0, 1] - weight[0, 0] > 1.0  # the informative input carries the decision


def test_exported_graph_computes_the_numpy_head_with_mirror_averaging(tmp_path: Path) -> None:
    base = make_tiny_face_model(tmp_path / "base")
    rng = np.random.default_rng(1)
    n_in = 4 + len(GEOMETRY_FEATURES)
    head = Head(rng.standard_normal(n_in), rng.uniform(0.5, 2.0, n_in), rng.standard_normal((n_in, 8)),
                rng.standard_normal(8))
    export(base, head, tmp_path / "fused", temperature=1.0, name="face.tiny-fusion.v2",
           feature_tensor=TINY_FEATURES)
    crops = rng.integers(0, 256, (5, 48, 48)).astype(np.uint8)
    geometry = rng.standard_normal((5, len(GEOMETRY_FEATURES))).astype(np.float32)
    feats, _ = appearance(feature_session(base, feature_tensor=TINY_FEATURES), crops, mean=0.0, std=1.0,
                          feature_tensor=TINY_FEATURES)
    expected = softmax(head.logits(np.hstack([feats, geometry])))
    config = json.loads((tmp_path / "fused" / "config.json").read_text())
    assert config["geometry_input"] == "geometry" and config["version"] == "v2"
    # the head learnt from crop + mirror averaged features: the export says so whatever the base said
    assert config["mirror_average"] is True
    assert not json.loads((base / "config.json").read_text()).get("mirror_average")
    rec = FaceOnnxRecognizer(tmp_path / "fused", detector="none", landmarks=False)
    assert np.allclose(rec.predict_crops(crops, geometry), expected, atol=1e-4)


def test_int8_model_folder_pins_the_int8_graph_so_the_recognizer_loads_it(tmp_path: Path) -> None:
    base = make_tiny_face_model(tmp_path / "base")
    run = tmp_path / "run"  # a training run's layout: config.json pins the fp32 graph, the int8 one beside it
    run.mkdir()
    (run / "config.json").write_text((base / "config.json").read_text())
    (run / "model.int8.onnx").write_bytes((base / "model.onnx").read_bytes())
    (run / "model.onnx").write_bytes(b"the fp32 graph")  # what config.json's sha256 does not pin
    with pytest.raises(ModelFilesError, match="sha256"):
        FaceOnnxRecognizer(run, detector="none", landmarks=False).load()
    int8_model_folder(run, tmp_path / "int8")
    config = json.loads((tmp_path / "int8" / "config.json").read_text())
    assert config["variant"] == "int8"
    assert (tmp_path / "int8" / "model.onnx").read_bytes() == (run / "model.int8.onnx").read_bytes()
    rec = FaceOnnxRecognizer(tmp_path / "int8", detector="none", landmarks=False)
    assert rec.predict_crops(np.zeros((2, 48, 48), np.uint8)).shape == (2, 8)


def test_wild_split_is_fixed_by_name_and_keeps_people_apart() -> None:
    names = [f"Person_{i}" for i in range(500)]
    splits = [wild_split(n) for n in names]
    assert splits == [wild_split(n) for n in names]  # deterministic: a hash of the name only
    shares = {s: splits.count(s) / len(names) for s in ("train", "dev", "test")}
    assert 0.12 < shares["test"] < 0.28 and 0.12 < shares["dev"] < 0.28


def test_macro_f1_over_a_label_subset() -> None:
    true, pred = np.asarray([0, 0, 1, 1, 2]), np.asarray([0, 0, 1, 0, 2])
    assert macro_f1_over(true, pred, (0, 1)) == pytest.approx(np.mean([0.8, 2 / 3]), abs=1e-4)
    assert macro_f1_over(true, pred, (3,)) == 0.0


@pytest.mark.parametrize("extra", [1, 2])
def test_extra_cnn_export_reads_every_feature_set_in_one_graph(tmp_path: Path, extra: int) -> None:
    from affectlens_recipes.face_fusion_cache import penultimate_tensor

    base = make_tiny_face_model(tmp_path / "base", seed=0)
    others = [make_tiny_face_model(tmp_path / f"other{i}", seed=3 + i) for i in range(extra)]
    assert penultimate_tensor(others[0] / "model.onnx") == TINY_FEATURES
    rng = np.random.default_rng(2)
    n_in = 4 * (1 + extra) + len(GEOMETRY_FEATURES)
    head = Head(rng.standard_normal(n_in), rng.uniform(0.5, 2.0, n_in), rng.standard_normal((n_in, 8)),
                rng.standard_normal(8))
    export(base, head, tmp_path / "pair", temperature=1.0, name="face.tiny-pair.v3", feature_tensor=TINY_FEATURES,
           second_cnn=others)
    crops = rng.integers(0, 256, (6, 48, 48)).astype(np.uint8)
    geometry = rng.standard_normal((6, len(GEOMETRY_FEATURES))).astype(np.float32)
    feats = [appearance(feature_session(m, feature_tensor=TINY_FEATURES), crops, mean=0.0, std=1.0,
                        feature_tensor=TINY_FEATURES)[0] for m in (base, *others)]
    assert not np.allclose(feats[0], feats[1])  # different CNNs: the head must see each
    expected = softmax(head.logits(np.hstack([*feats, geometry])))
    config_path = tmp_path / "pair" / "config.json"
    config = json.loads(config_path.read_text())
    assert config["version"] == "v3"
    config["mirror_average"] = True
    config_path.write_text(json.dumps(config))
    rec = FaceOnnxRecognizer(tmp_path / "pair", detector="none", landmarks=False)
    assert np.allclose(rec.predict_crops(crops, geometry), expected, atol=1e-4)


def test_cache_parts_keep_the_asked_extra_cnns_and_heads_read_their_own_inputs(tmp_path: Path) -> None:
    from affectlens_recipes.face_fusion import head_inputs, inputs, load_cache

    rng = np.random.default_rng(4)
    width = {"features": 4, "logits": 8}
    rows = {"crops": np.zeros((3, 48, 48), np.uint8), "geometry": rng.standard_normal((3, 9)),
            "labels": np.array([0, 1, 2]), **{f"{kind}{suffix}": rng.standard_normal((3, width[kind]))
                                               for kind in width for suffix in ("", "_b", "_c")}}
    np.savez(tmp_path / "fusion_part.npz", **rows)
    assert "features_b" not in load_cache(tmp_path, "part")
    two = load_cache(tmp_path, "part", second=1)
    assert "features_b" in two and "features_c" not in two and "crops" not in two
    three = load_cache(tmp_path, "part", second=2)
    assert np.array_equal(inputs(three, True),
                          np.hstack([rows["features"], rows["features_b"], rows["features_c"], rows["geometry"]]))
    assert np.array_equal(head_inputs(three, np.zeros((4 * 2 + 9, 8))), inputs(two, True))
    assert np.array_equal(head_inputs(three, np.zeros((4 + 9, 8))), inputs(load_cache(tmp_path, "part"), True))
    with pytest.raises(ValueError, match="extra CNN"):
        load_cache(tmp_path, "part", second=3)


def test_heads_read_their_own_inputs_when_the_extra_cnns_are_narrower(tmp_path: Path) -> None:
    from affectlens_recipes.face_fusion import head_inputs, inputs

    rng = np.random.default_rng(5)
    part = {"features": rng.standard_normal((2, 4)), "features_b": rng.standard_normal((2, 3)),
            "features_c": rng.standard_normal((2, 2)), "geometry": rng.standard_normal((2, 9))}
    assert np.array_equal(head_inputs(part, np.zeros((4 + 3 + 9, 8))),
                          inputs({k: v for k, v in part.items() if k != "features_c"}, True))
    assert head_inputs(part, np.zeros((4 + 3 + 2 + 9, 8))).shape == (2, 18)
    with pytest.raises(ValueError, match="no prefix"):
        head_inputs(part, np.zeros((4 + 2 + 9, 8)))
