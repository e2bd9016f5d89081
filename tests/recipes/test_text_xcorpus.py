"""The cross-corpus successor's recipe: v1's weights read back, the step plan, the Ekman loss, the student cut out."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from affectlens.testing import add_tiny_vad_student, make_tiny_text_model
from affectlens_recipes.text_xcorpus import (
    SHARES,
    SHARES_V3,
    class_weights,
    plan_steps,
    shares,
    weights_from_onnx,
)
from affectlens_recipes.text_xcorpus_refit import ridge_readout

pytest.importorskip("onnx")


def _exported_like_torch(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A graph named as ``torch.onnx.export`` names BERT: a Linear weight behind an anonymous int8 initializer."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    table = rng.standard_normal((6, 4)).astype(np.float32)
    linear_t = rng.standard_normal((4, 3)).astype(np.float32)  # (in, out): the exporter stores W.T
    scale = np.abs(linear_t).max(axis=0) / 127.0
    quantized = np.clip(np.round(linear_t / scale), -127, 127).astype(np.int8)
    bias = np.arange(3, dtype=np.float32)
    inits = [
        numpy_helper.from_array(table, "encoder.embeddings.word_embeddings.weight"),
        numpy_helper.from_array(quantized, "onnx::MatMul_7_int8"),
        numpy_helper.from_array(scale.astype(np.float32), "onnx::MatMul_7_scale"),
        numpy_helper.from_array(np.zeros(3, np.int8), "onnx::MatMul_7_zero_point"),
        numpy_helper.from_array(bias, "encoder.encoder.layer.0.attention.self.query.bias"),
    ]
    nodes = [
        helper.make_node("DequantizeLinear", ["onnx::MatMul_7_int8", "onnx::MatMul_7_scale",
                                              "onnx::MatMul_7_zero_point"], ["onnx::MatMul_7"], axis=1,
                         name="onnx::MatMul_7_dequantize"),
        helper.make_node("Gather", ["encoder.embeddings.word_embeddings.weight", "input_ids"], ["embedded"],
                         name="/encoder/embeddings/word_embeddings/Gather"),
        helper.make_node("MatMul", ["embedded", "onnx::MatMul_7"], ["q"],
                         name="/encoder/encoder/layer.0/attention/self/query/MatMul"),
        helper.make_node("Add", ["q", "encoder.encoder.layer.0.attention.self.query.bias"], ["out"],
                         name="/encoder/encoder/layer.0/attention/self/query/Add"),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, 2])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 2, 3])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return table, (quantized.astype(np.float32) * scale).T, bias


def test_v1_weights_come_back_under_their_torch_names(tmp_path: Path) -> None:
    table, weight, bias = _exported_like_torch(tmp_path / "m.onnx")
    state = weights_from_onnx(tmp_path / "m.onnx")
    np.testing.assert_array_equal(state["encoder.embeddings.word_embeddings.weight"], table)
    # torch's Linear stores (out, in): the exporter's (in, out) matrix transposed back, dequantised
    np.testing.assert_allclose(state["encoder.encoder.layer.0.attention.self.query.weight"], weight, rtol=1e-6)
    np.testing.assert_array_equal(state["encoder.encoder.layer.0.attention.self.query.bias"], bias)
    assert not any(k.endswith(("_int8", "_scale", "_zero_point")) or k.startswith("onnx::") for k in state)


def test_every_corpus_gets_its_share_of_the_steps_whatever_its_size() -> None:
    sizes = {"goemotions": 1000, "emobank": 50, "dailydialog": 400, "isear": 10, "emoevent": 70, "crowdflower": 300}
    lengths = {name: [5 + i % 7 for i in range(n)] for name, n in sizes.items()}
    plan = plan_steps(200, 8, random.Random(0), lengths)
    assert len(plan) == 200
    counts = {name: sum(1 for n, _ in plan if n == name) for name in SHARES}
    for name, share in SHARES.items():
        assert counts[name] == round(share * 200)
    # a small corpus is cycled through: every batch indexes inside it
    assert all(max(batch) < sizes[name] for name, batch in plan)
    isear_rows = {i for name, batch in plan if name == "isear" for i in batch}
    assert isear_rows == set(range(10))


def test_a_larger_goemotions_share_keeps_the_other_corpora_ratios() -> None:
    mix = shares(0.5)
    assert mix["goemotions"] == 0.5 and sum(mix.values()) == pytest.approx(1.0)
    assert mix["isear"] / mix["dailydialog"] == pytest.approx(SHARES["isear"] / SHARES["dailydialog"])
    with pytest.raises(ValueError, match="strictly between"):
        shares(1.0)


def test_leaving_a_corpus_out_renormalises_the_other_shares_and_keeps_the_step_count() -> None:
    mix = shares(SHARES["goemotions"], ("isear",))
    assert "isear" not in mix and sum(mix.values()) == pytest.approx(1.0)
    # the remaining corpora keep the full recipe's ratios
    assert mix["goemotions"] / mix["emobank"] == pytest.approx(SHARES["goemotions"] / SHARES["emobank"])
    assert mix["dailydialog"] == pytest.approx(SHARES["dailydialog"] / (1.0 - SHARES["isear"]))
    # the renormalised shares do not round to whole steps: the plan still has exactly ``steps`` batches
    lengths = {name: [5 + i % 7 for i in range(100)] for name in mix}
    plan = plan_steps(1000, 8, random.Random(0), lengths, mix)
    assert len(plan) == 1000 and {name for name, _ in plan} == set(mix)
    assert shares(SHARES["goemotions"]) == pytest.approx(SHARES)  # nothing left out: the shipped recipe


def test_only_the_ekman_corpora_can_be_left_out() -> None:
    with pytest.raises(ValueError, match="can be left out"):
        shares(SHARES["goemotions"], ("goemotions",))
    with pytest.raises(ValueError, match="can be left out"):
        shares(SHARES["goemotions"], ("meld",))


def test_the_v3_recipe_adds_empatheticdialogues_and_only_its_own_corpora_can_be_left_out() -> None:
    mix = shares(SHARES_V3["goemotions"], recipe="v3")
    assert mix == pytest.approx(SHARES_V3) and sum(mix.values()) == pytest.approx(1.0)
    assert mix["emobank"] > SHARES["emobank"]  # v3's own VAD head replaces v1's student
    held = shares(SHARES_V3["goemotions"], ("empatheticdialogues",), recipe="v3")
    assert "empatheticdialogues" not in held and sum(held.values()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="can be left out"):  # v2 never trained on it
        shares(SHARES["goemotions"], ("empatheticdialogues",))


def test_the_ekman_loss_reads_group_log_sum_exp_over_the_corpus_classes() -> None:
    torch = pytest.importorskip("torch")
    from affectlens.bench.xcorpus_data import EKMAN7, goemotions_ekman_matrix
    from affectlens_recipes.text_xcorpus import ekman_scores, restricted_ce

    groups_np = goemotions_ekman_matrix()
    logits = torch.tensor(np.random.default_rng(1).standard_normal((2, 28)), dtype=torch.float32)
    scores = ekman_scores(torch, logits, torch.tensor(groups_np))
    for k in range(7):
        members = logits[:, groups_np[:, k] > 0]
        torch.testing.assert_close(scores[:, k], torch.logsumexp(members, dim=1))
    classes = (EKMAN7.index("joy"), EKMAN7.index("sadness"))
    target = torch.tensor([EKMAN7.index("joy"), EKMAN7.index("sadness")])
    weight = torch.ones(7)
    loss = restricted_ce(torch, scores, target, classes, weight)
    expected = torch.nn.functional.cross_entropy(scores[:, list(classes)], torch.tensor([0, 1]))
    torch.testing.assert_close(loss, expected)
    # a class weight of 0 removes that text from the loss
    weight[EKMAN7.index("sadness")] = 0.0
    only_joy = restricted_ce(torch, scores, target, classes, weight)
    first = torch.nn.functional.cross_entropy(scores[:1, list(classes)], torch.tensor([0]))
    torch.testing.assert_close(only_joy, first / 2)


def test_the_sum_read_is_the_bench_decision_made_a_distribution() -> None:
    torch = pytest.importorskip("torch")
    from affectlens.bench.xcorpus import restricted_argmax
    from affectlens.bench.xcorpus_data import EKMAN7, goemotions_ekman_matrix
    from affectlens_recipes.text_xcorpus import EKMAN_READS, ekman_sum_scores

    assert set(EKMAN_READS) == {"lse", "sum"}
    groups_np = goemotions_ekman_matrix()
    logits_np = np.random.default_rng(2).standard_normal((5, 28)) * 3
    scores = ekman_sum_scores(torch, torch.tensor(logits_np, dtype=torch.float32), torch.tensor(groups_np))
    summed = (1.0 / (1.0 + np.exp(-logits_np))) @ groups_np
    np.testing.assert_allclose(np.exp(scores.numpy()), summed, rtol=1e-5)
    # the softmax over a corpus' classes has its argmax where the bench's restricted argmax is
    names = ("anger", "joy", "sadness", "neutral")
    classes = [EKMAN7.index(c) for c in names]
    picked = np.asarray(classes)[scores[:, classes].softmax(1).argmax(1).numpy()]
    np.testing.assert_array_equal(picked, restricted_argmax(summed, names))


def test_the_student_cut_out_of_a_merged_graph_gives_its_vad(tmp_path: Path) -> None:
    import onnx
    import onnxruntime as ort

    from affectlens_recipes.text_static import merge_vad_student
    from affectlens_recipes.text_xcorpus_finalize import extract_student

    folder = add_tiny_vad_student(make_tiny_text_model(tmp_path / "m"), per_token=(0.05, -0.04, 0.0))
    student = onnx.load(str(folder / "vad_student.onnx"))
    for k, node in enumerate(student.graph.node):  # the exporter names every node; the tiny builder does not
        node.name = f"student_node_{k}"
    merged = merge_vad_student(onnx.load(str(folder / "model.onnx")), student, [0.3, 0.3, 0.3])
    onnx.save(merged, str(tmp_path / "merged.onnx"))
    cut = extract_student(tmp_path / "merged.onnx")
    assert [o.name for o in cut.graph.output] == ["vad"]
    onnx.save(cut, str(tmp_path / "student.onnx"))
    feed = {"input_ids": np.array([[1, 2, 3]], dtype=np.int64), "attention_mask": np.ones((1, 3), dtype=np.int64)}
    alone = ort.InferenceSession(str(tmp_path / "student.onnx")).run(["vad"], feed)[0]
    inside = ort.InferenceSession(str(tmp_path / "merged.onnx")).run(["vad_student"], feed)[0]
    original = ort.InferenceSession(str(folder / "vad_student.onnx")).run(["vad"], {
        k: v for k, v in feed.items() if k in {i.name for i in student.graph.input}})[0]
    np.testing.assert_allclose(alone, inside, rtol=1e-6)
    np.testing.assert_allclose(alone, original, rtol=1e-6)
    # and it merges again into another encoder, which is what the successor's build does
    again = merge_vad_student(onnx.load(str(folder / "model.onnx")), cut, [1.0, 1.0, 1.0])
    onnx.checker.check_model(again)


def test_a_graph_without_the_student_prefix_is_refused(tmp_path: Path) -> None:
    import onnx

    from affectlens_recipes.text_xcorpus_finalize import extract_student

    folder = make_tiny_text_model(tmp_path / "plain")
    model = onnx.load(str(folder / "model.onnx"))
    for k, node in enumerate(model.graph.node):
        node.name = f"encoder_node_{k}"
    for node in model.graph.node:  # give it a vad_student output made of encoder nodes
        node.output[:] = ["vad_student" if o == "vad" else o for o in node.output]
    for output in model.graph.output:
        if output.name == "vad":
            output.name = "vad_student"
    onnx.save(model, str(tmp_path / "plain.onnx"))
    with pytest.raises(RuntimeError, match="nodes of the encoder"):
        extract_student(tmp_path / "plain.onnx")


def test_the_ridge_read_out_recovers_a_linear_map_on_raw_features() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, [1.0, 10.0, 0.1], size=(400, 3))
    true_w = np.array([[0.5, -0.02, 3.0], [0.0, 0.1, 0.0]])
    y = x @ true_w.T + np.array([1.0, -2.0])
    weight, bias = ridge_readout(x, y, 1e-6)
    assert weight.shape == (2, 3) and bias.shape == (2,)
    assert np.allclose(x @ weight.T + bias, y, atol=1e-3)  # folded back: applies to raw features
    shrunk, _ = ridge_readout(x, y, 1e6)
    assert np.abs(shrunk).sum() < np.abs(weight).sum()  # a strong penalty shrinks the weights, not the intercept


def test_class_weights_follow_the_power_and_keep_a_mean_of_one_per_text() -> None:
    labels = np.array([0] * 90 + [3] * 10)  # "no emotion" 90 texts, one emotion 10
    for power in (0.0, 0.5, 1.0):
        weight = class_weights(labels, power)
        assert weight[labels].mean() == pytest.approx(1.0)
        assert weight[1] == weight[2] == 0.0  # classes the corpus does not hold
        assert weight[3] / weight[0] == pytest.approx(9.0**power)  # 0: unweighted, 1: balanced
