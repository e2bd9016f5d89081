"""The LLM recognizer against a local fake OpenAI-compatible server (no real LLM, no network)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from affectlens import registry
from affectlens.inputs import TextItem
from affectlens.llm import config as llm_config
from affectlens.llm.parsing import ReplyParseError, as_unit_number, extract_json, parse_judgement
from affectlens.llm.prompts import EMOTION_STIMULI
from affectlens.llm.testing import FakeChatServer, FakeReply, keyword_judgement, keyword_responder
from affectlens.llm.vocabulary import LabelVocabulary, normalise_word
from affectlens.recognizers.llm import (
    Dialogue,
    FewShotExample,
    LLMNotConfigured,
    LLMRecognizer,
    canonical_name,
    draw_train_examples,
    parse_name,
)
from affectlens.taxonomy import get_label_set
from affectlens.testing import check_recognizer
from affectlens.types import VAD, Cue, EmotionResult, Modality, Provenance, Segment

GOOD = json.dumps({"emotions": [{"label": "joy", "intensity": 0.9}], "cues": [{"phrase": "happy", "emotion": "joy"}],
                   "rationale": "the word happy says it.", "confidence": 0.8})


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never see the developer's own endpoint, key or config file."""
    for name in (llm_config.ENV_URL, llm_config.ENV_MODEL, llm_config.ENV_API_KEY, llm_config.ENV_CONFIG,
                 llm_config.ENV_CACHE):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(llm_config, "DEFAULT_CONFIG_PATH", tmp_path / "absent" / "llm.toml")


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    with FakeChatServer() as fake:
        yield fake


@pytest.fixture
def make(server: FakeChatServer, tmp_path: Path) -> Callable[..., LLMRecognizer]:
    def build(**kwargs: Any) -> LLMRecognizer:
        settings: dict[str, Any] = {"url": server.url, "cache_dir": tmp_path / "cache", "timeout": 2.0,
                                    "backoff": 0.01, "max_retries": 2, "parse_retries": 1}
        settings.update(kwargs)
        return LLMRecognizer(settings.pop("model", "fake-model"), **settings)

    return build


# -- configuration ---------------------------------------------------------------------------
def test_unconfigured_raises_clearly_and_sends_nothing(server: FakeChatServer) -> None:
    rec = LLMRecognizer("some-model")
    with pytest.raises(LLMNotConfigured, match="AFFECTLENS_LLM_URL"):
        rec.analyze(["hello"])
    with pytest.raises(LLMNotConfigured, match="AFFECTLENS_LLM_MODEL"):
        LLMRecognizer(url=server.url).load()
    assert server.requests == []


def test_environment_configures_url_model_and_key(server: FakeChatServer, monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setenv("AFFECTLENS_LLM_URL", server.url)
    monkeypatch.setenv("AFFECTLENS_LLM_MODEL", "env-model")
    monkeypatch.setenv("AFFECTLENS_LLM_API_KEY", "sk-test")
    monkeypatch.setenv("AFFECTLENS_LLM_CACHE", str(tmp_path / "c"))
    rec = LLMRecognizer()
    assert rec.name == "llm:env-model" and rec.version == "env-model"
    (result,) = rec.analyze(["I am happy"])
    assert result.segments[0].labels == ("joy",)
    assert server.requests[0]["model"] == "env-model"
    assert server.headers[0]["Authorization"] == "Bearer sk-test"
    assert "sk-test" not in repr(rec.config)
    assert len(list((tmp_path / "c").glob("*/*.json"))) == 1


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_config_file(server: FakeChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    path = tmp_path / f"llm{suffix}"
    if suffix == ".toml":
        path.write_text(f'[llm]\nurl = "{server.url}"\nmodel = "file-model"\nconcurrency = 2\n', encoding="utf-8")
    else:
        path.write_text(json.dumps({"url": server.url, "model": "file-model", "concurrency": 2}), encoding="utf-8")
    monkeypatch.setenv("AFFECTLENS_LLM_CONFIG", str(path))
    rec = LLMRecognizer(cache=False)
    rec.load()
    assert rec.name == "llm:file-model" and rec.config is not None and rec.config.concurrency == 2
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps({"url": server.url, "modle": "typo"}), encoding="utf-8")
    with pytest.raises(LLMNotConfigured, match="modle"):
        llm_config.resolve_config(typo)
    typo.write_text("{not json", encoding="utf-8")
    with pytest.raises(LLMNotConfigured, match="cannot read"):
        llm_config.resolve_config(typo)


# -- results ---------------------------------------------------------------------------------
def test_text_result_scores_cues_rationale_and_confidences(make: Callable[..., LLMRecognizer]) -> None:
    rec = make()
    text = "I am so happy, thank you!"
    (result,) = rec.analyze([TextItem(text, record_id="r1", source="s.txt")])
    (seg,) = result.segments
    assert set(seg.scores) == set(get_label_set("goemotions").labels)
    assert seg.labels == ("joy", "gratitude") and seg.scores["joy"] == 0.9 and seg.scores["gratitude"] == 0.8
    assert seg.record_id == "r1" and seg.source == "s.txt" and seg.text == text
    assert seg.modality == Modality.TEXT and seg.provenance == Provenance("llm:fake-model", "fake-model")
    words = {e["word"]: e for e in seg.extras["emotions"]}
    assert words["thankful"]["mapped_from"] == "thankful" and words["thankful"]["label"] == "gratitude"
    assert "mapped_from" not in words["joy"]
    kinds = {c.kind for c in seg.cues}
    assert kinds == {"emotion_word", "quote", "rationale"}
    quote = next(c for c in seg.cues if c.kind == "quote" and c.label == "joy")
    assert quote.span is not None and text[quote.span[0]:quote.span[1]] == "happy"
    rationale = next(c for c in seg.cues if c.kind == "rationale")
    assert "happy" in rationale.phrase and seg.extras["rationale"] == rationale.phrase
    assert seg.extras["verbalized_confidence"] == 0.75  # as stated by the model
    assert seg.confidence == 0.9  # top stated intensity: a different number, kept apart
    assert seg.vad is not None and seg.vad.valence > 0.5
    assert seg.extras["llm"] == {"model": "fake-model", "prompt": "plain", "shots": 0, "prompt_version": "1"}


def test_other_label_set_and_empty_emotions_mean_neutral(make: Callable[..., LLMRecognizer],
                                                         server: FakeChatServer) -> None:
    rec = make(label_set="ekman")
    (thanks,) = rec.analyze(["thank you"])
    seg = thanks.segments[0]
    assert set(seg.scores) == set(get_label_set("ekman").labels) and seg.labels == ("joy",)
    assert seg.extras["emotions"][0]["route"] == "thankful -> goemotions:gratitude -> ekman:joy"
    server.push(FakeReply(json.dumps({"emotions": [], "cues": [], "rationale": "", "confidence": 0.5})))
    (flat,) = rec.analyze(["The meeting is at 3 pm."])
    assert flat.segments[0].labels == ("neutral",) and flat.segments[0].vad is not None


def test_unmapped_word_is_reported(make: Callable[..., LLMRecognizer]) -> None:
    (result,) = make().analyze(["blorft"])
    seg = result.segments[0]
    assert seg.labels == () and max(seg.scores.values()) == 0.0
    assert "blorftastic" in result.warnings[0] and seg.extras["emotions"][0]["method"] == "unmapped"


def test_bad_inputs_give_empty_results_with_warnings(make: Callable[..., LLMRecognizer],
                                                     server: FakeChatServer) -> None:
    results = make().analyze(["", "  ", 42, "happy"])
    assert [r.is_empty for r in results] == [True, True, True, False]
    assert all(r.warnings for r in results[:3]) and "int" in results[2].warnings[0]
    assert len(server.requests) == 1  # nothing is sent for empty or invalid items


def test_contract_check_passes(make: Callable[..., LLMRecognizer]) -> None:
    check_recognizer(make(), factory=make)


# -- dialogue and media cues -----------------------------------------------------------------
def test_dialogue_gives_one_segment_per_turn(make: Callable[..., LLMRecognizer],
                                             server: FakeChatServer) -> None:
    turns = [TextItem("I hate waiting.", speaker="Ann", turn=0),
             TextItem("Wow, thanks for coming!", speaker="Bo", turn=1)]
    (result,) = make().analyze([turns])
    assert [(s.turn, s.speaker) for s in result.segments] == [(0, "Ann"), (1, "Bo")]
    assert result.segments[0].labels == ("anger",) and "gratitude" in result.segments[1].labels
    prompt = server.requests[0]["messages"][-1]["content"]
    assert '[0] Ann: "I hate waiting."' in prompt
    assert server.requests[0]["response_format"]["json_schema"]["name"] == "emotion_dialogue"


def test_dialogue_targets_and_cues_quoting_earlier_turns(make: Callable[..., LLMRecognizer],
                                                         server: FakeChatServer) -> None:
    dialogue = Dialogue.from_pairs([("A", "You broke my phone."), ("B", "It was an accident.")],
                                   targets=(1,), record_id="d1")
    server.push(FakeReply(json.dumps({"turns": [{"turn": 1, "emotions": [{"label": "sorry", "intensity": 0.7}],
                                                  "cues": [{"phrase": "broke my phone", "emotion": "remorse"}],
                                                  "rationale": "B answers the accusation.", "confidence": 0.6}]})))
    (result,) = make().analyze([dialogue])
    (seg,) = result.segments
    assert seg.turn == 1 and seg.labels == ("remorse",) and result.record_id == "d1"
    quote = next(c for c in seg.cues if c.kind == "quote")
    assert quote.turn == 0 and quote.span is None  # found in the earlier turn, not in this one


def test_media_segment_cues_are_rendered_without_paths(make: Callable[..., LLMRecognizer],
                                                       server: FakeChatServer) -> None:
    speech = Segment(
        modality=Modality.SPEECH, label_set="ravdess", scores={"angry": 0.7, "neutral": 0.2}, labels=("angry",),
        vad=VAD(-0.5, 0.6, 0.2), confidence=0.7, provenance=Provenance("speech.demo.v1", "v1"),
        cues=(Cue("prosody", "high, rising pitch", 0.8, "angry", time=(1.0, 2.0), value=310.0),),
        source="/home/me/secret/call.wav", text="I am furious", start=1.0, end=3.5, speaker="S1",
        record_id="row-7")
    (result,) = make().analyze([EmotionResult((speech,), source="/home/me/secret/call.wav", record_id="row-7")])
    (seg,) = result.segments
    assert seg.labels == ("anger",) and (seg.start, seg.end, seg.speaker) == (1.0, 3.5, "S1")
    assert seg.extras["reasoned_over"] == ["speech"] and result.record_id == "row-7"
    sent = json.dumps(server.requests[0])
    assert "high, rising pitch" in sent and "angry 0.70" in sent and "I am furious" in sent
    assert "secret" not in sent and "row-7" not in sent  # paths and ids never leave the machine


# -- robustness ------------------------------------------------------------------------------
@pytest.mark.parametrize("reply", [
    f"```json\n{GOOD}\n```",
    f"Sure! Here is the answer:\n{GOOD}\nHope this helps.",
    GOOD.replace('"', "'"),
    "<think>hmm, 'happy' {maybe}</think>" + GOOD,
    '{"emotions": {"joy": "90%"}, "rationale": "happy",}',
])
def test_tolerant_parsing(reply: str) -> None:
    judgement = parse_judgement(reply)
    assert judgement.emotions[0].word == "joy" and judgement.emotions[0].intensity == pytest.approx(0.9)


@pytest.mark.parametrize("reply", ["", "I think it is joy.", '{"rationale": "no emotions key"}', "[1, 2"])
def test_unreadable_replies_raise(reply: str) -> None:
    with pytest.raises(ReplyParseError):
        parse_judgement(reply)


def test_unit_numbers() -> None:
    assert [as_unit_number(v) for v in (0.4, "0.4", "40%", 40, 250, True, "high", "x", float("nan"))] == [
        0.4, 0.4, 0.4, 0.4, 1.0, None, 0.9, None, None]
    assert extract_json('noise {"a": [1, {"b": "}"}]} tail') == {"a": [1, {"b": "}"}]}


def test_malformed_reply_is_reasked_then_cached(make: Callable[..., LLMRecognizer], server: FakeChatServer) -> None:
    server.push(FakeReply("joy, definitely joy"))
    rec = make()
    (result,) = rec.analyze(["so happy"])
    assert result.segments[0].labels == ("joy",)
    assert len(server.requests) == 2 and rec.stats.reasks == 1
    assert "could not be used" in server.requests[1]["messages"][-1]["content"]
    rec.analyze(["so happy"])  # the parsed reply was cached under the original prompt
    assert len(server.requests) == 2 and rec.stats.cache_hits == 1


def test_malformed_replies_are_bounded(make: Callable[..., LLMRecognizer], server: FakeChatServer) -> None:
    server.push(*[FakeReply("nope")] * 5, FakeReply(None))
    (result,) = make(parse_retries=2).analyze(["so happy"])
    assert result.is_empty and "could not be parsed" in result.warnings[0]
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_are_retried(make: Callable[..., LLMRecognizer], server: FakeChatServer, status: int) -> None:
    server.push(FakeReply(status=status, headers={"Retry-After": "0"}))
    (result,) = make().analyze(["happy"])
    assert result.segments[0].labels == ("joy",) and len(server.requests) == 2


def test_retries_are_bounded_and_the_batch_survives(make: Callable[..., LLMRecognizer],
                                                    server: FakeChatServer) -> None:
    server.push(*[FakeReply(status=500)] * 3)
    rec = make(max_retries=2, concurrency=1)
    results = rec.analyze(["happy", "sad"])
    assert results[0].is_empty and "HTTP 500" in results[0].warnings[0]
    assert results[1].segments[0].labels == ("sadness",)
    assert len(server.requests) == 4 and rec.stats.failures == 1


def test_auth_error_is_not_retried(make: Callable[..., LLMRecognizer], server: FakeChatServer) -> None:
    server.push(FakeReply(status=401))
    (result,) = make().analyze(["happy"])
    assert result.is_empty and "API key" in result.warnings[0] and len(server.requests) == 1


def test_slow_reply_times_out_and_is_retried(make: Callable[..., LLMRecognizer], server: FakeChatServer) -> None:
    server.push(FakeReply(GOOD, delay=1.0))
    started = time.perf_counter()
    (result,) = make(timeout=0.2).analyze(["happy"])
    assert result.segments[0].labels == ("joy",)
    assert len(server.requests) == 2 and time.perf_counter() - started < 1.0


def test_json_schema_falls_back_when_rejected(make: Callable[..., LLMRecognizer], server: FakeChatServer) -> None:
    server.push(FakeReply(status=400, body='{"error": "response_format json_schema is not supported"}'),
                FakeReply(status=400, body='{"error": "unknown field response_format"}'))
    rec = make(concurrency=1)
    results = rec.analyze(["happy", "sad"])
    assert [r.segments[0].labels for r in results] == [("joy",), ("sadness",)]
    formats = [r.get("response_format", {}).get("type") for r in server.requests]
    assert formats == ["json_schema", "json_object", None, None]  # and the client remembers


def test_bounded_concurrency(make: Callable[..., LLMRecognizer], tmp_path: Path) -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def slow(request: dict[str, Any]) -> str:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.15)
        with lock:
            active -= 1
        return keyword_responder(request)

    with FakeChatServer(slow) as fake:
        rec = make(url=fake.url, concurrency=3)
        started = time.perf_counter()
        results = rec.analyze([f"happy {i}" for i in range(9)])
        elapsed = time.perf_counter() - started
    assert all(r.segments[0].labels == ("joy",) for r in results)
    assert [r.segments[0].text for r in results] == [f"happy {i}" for i in range(9)]
    assert peak == 3 and elapsed < 9 * 0.15


# -- cache -----------------------------------------------------------------------------------
def test_cache_makes_reruns_free_and_keys_on_prompt_model_params(make: Callable[..., LLMRecognizer],
                                                                 server: FakeChatServer, tmp_path: Path) -> None:
    first = make(api_key="key-1").analyze(["happy", "sad"])
    assert len(server.requests) == 2
    again = make(api_key="key-2").analyze(["happy", "sad"])  # a new process, another key: still cached
    assert len(server.requests) == 2 and [r.to_json() for r in again] == [r.to_json() for r in first]
    make(prompt="emotionprompt").analyze(["happy"])
    make(model="other-model").analyze(["happy"])
    make(temperature=0.7).analyze(["happy"])
    assert len(server.requests) == 5
    make(cache=False).analyze(["happy"])
    assert len(server.requests) == 6
    stored = list((tmp_path / "cache").glob("*/*.json"))
    assert len(stored) == 5 and all("key-" not in p.read_text(encoding="utf-8") for p in stored)


# -- prompts, few-shot, registry -------------------------------------------------------------
def test_prompt_variants_append_the_stimulus(make: Callable[..., LLMRecognizer], server: FakeChatServer) -> None:
    make(prompt="emotionprompt").analyze(["happy"])
    make(prompt="ep07").analyze(["happy"])
    make().analyze(["happy"])
    user = [r["messages"][-1]["content"] for r in server.requests]
    assert "This is very important to my career." in user[0]
    assert EMOTION_STIMULI["ep07"] in user[1]
    assert "career" not in user[2] and "final answer" not in user[2]
    with pytest.raises(ValueError, match="unknown prompt variant"):
        LLMRecognizer("m", prompt="shouting")


def write_goemotions(root: Path) -> Path:
    folder = root / "goemotions"
    folder.mkdir(parents=True)
    train = [(f"train text {i}", "17" if i % 2 else "15,0", f"t{i}") for i in range(12)]
    (folder / "train.tsv").write_text("".join(f"{a}\t{b}\t{c}\n" for a, b, c in train), encoding="utf-8")
    (folder / "test.tsv").write_text("TEST ONLY happy\t17\tx1\nTEST ONLY sad\t25\tx2\n", encoding="utf-8")
    (folder / "dev.tsv").write_text("DEV ONLY\t27\td1\n", encoding="utf-8")
    return root


def test_few_shot_examples_come_from_train_with_a_fixed_seed(make: Callable[..., LLMRecognizer],
                                                             server: FakeChatServer, tmp_path: Path) -> None:
    root = write_goemotions(tmp_path / "data")
    first = draw_train_examples("goemotions", 4, seed=0, data_root=root)
    assert first == draw_train_examples("goemotions", 4, seed=0, data_root=root)
    assert first != draw_train_examples("goemotions", 4, seed=1, data_root=root)
    assert all(ex.text.startswith("train text") for ex in first)
    assert {ex.labels for ex in first} <= {("joy",), ("admiration", "gratitude")}
    ekman = draw_train_examples("ekman", 4, seed=0, data_root=root)
    assert {ex.labels for ex in ekman} <= {("joy",)}
    rec = make(shots=4, data_root=root)
    rec.analyze(["happy"])
    prompt = server.requests[0]["messages"][-1]["content"]
    assert all(ex.text in prompt for ex in first) and "TEST ONLY" not in prompt and "DEV ONLY" not in prompt
    assert rec.name == "llm:fake-model?shots=4" and rec.examples == first
    custom = make(examples=[FewShotExample("I won!", ("joy",))])
    custom.analyze(["happy"])
    assert '"I won!"' in server.requests[-1]["messages"][-1]["content"]


def test_registry_names(server: FakeChatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert parse_name("llm:qwen2.5:7b?shots=5&prompt=ep02") == ("qwen2.5:7b", {"shots": 5, "prompt": "ep02"})
    assert canonical_name("m", {"prompt": "plain", "shots": 0, "seed": 3, "labels": "ekman"}) == "llm:m?labels=ekman"
    spec = registry.get_spec("llm:qwen2.5:7b?prompt=emotionprompt&shots=5&seed=0")
    assert spec.name == "llm:qwen2.5:7b?prompt=emotionprompt&shots=5" and spec.label_set == "goemotions"
    assert spec.version == "qwen2.5:7b?prompt=emotionprompt&shots=5"
    assert registry.get_spec(spec.name).name == spec.name  # what the bench harness relies on
    assert all(not s.name.startswith("llm:") for s in registry.available())
    for bad in ("llm:m?shots=many", "llm:m?colour=red", "llm:m?prompt=shouting", "llm:m?labels=nope", "llm:"):
        with pytest.raises(registry.UnknownRecognizer):
            registry.get_spec(bad)
    monkeypatch.setenv("AFFECTLENS_LLM_URL", server.url)
    rec = registry.load_recognizer("llm:fake?labels=ekman&prompt=ep03", cache_dir=tmp_path / "c")
    assert isinstance(rec, LLMRecognizer) and rec.label_set == "ekman" and rec.prompt == "ep03"
    assert rec.name == "llm:fake?labels=ekman&prompt=ep03"
    (result,) = rec.analyze(["happy"])
    assert result.segments[0].provenance.recognizer == rec.name


def test_request_sends_only_messages_and_sampling_params(make: Callable[..., LLMRecognizer],
                                                         server: FakeChatServer) -> None:
    make(seed=0).analyze([TextItem("happy", record_id="secret-id", source="/private/file.csv", speaker="Zed")])
    (body,) = server.requests
    assert set(body) == {"model", "messages", "temperature", "max_tokens", "stream", "response_format"}
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "secret-id" not in json.dumps(body) and "private" not in json.dumps(body)


# -- vocabulary ------------------------------------------------------------------------------
@pytest.mark.parametrize(("word", "label_set", "label", "method"), [
    ("Joy", "goemotions", "joy", "label"),
    ("happy", "goemotions", "joy", "synonym"),
    ("  Furious!! ", "goemotions", "anger", "synonym"),
    ("thankful", "goemotions", "gratitude", "synonym"),
    ("thankful", "ekman", "joy", "synonym"),
    ("joy", "ravdess", "happy", "synonym"),
    ("relaxed", "ravdess", "calm", "synonym"),
    ("feeling anxious", "goemotions", "nervousness", "synonym"),
    ("gaiety", "goemotions", "joy", "parrott"),
    ("homesickness", "goemotions", "sadness", "parrott"),
    ("hatred", "plutchik", "anger", "synonym"),
    ("blorftastic", "goemotions", None, "unmapped"),
])
def test_vocabulary(word: str, label_set: str, label: str | None, method: str) -> None:
    mapping = LabelVocabulary(label_set).map(word)
    assert (mapping.label, mapping.method) == (label, method)
    assert (mapping.anchor is None) == (label is None)


def test_synonym_table_targets_are_labels_and_overridable() -> None:
    from affectlens.llm.vocabulary import SYNONYMS
    from affectlens.taxonomy import list_label_sets

    every_label = {label for s in list_label_sets() for label in s.labels}
    assert set(SYNONYMS.values()) <= every_label
    assert all(normalise_word(word) == word for word in SYNONYMS)
    assert LabelVocabulary("goemotions", {"stoked": "excitement"}).map("stoked").label == "excitement"


def test_keyword_judgement_helper() -> None:
    assert keyword_judgement("nothing")["emotions"] == [{"label": "neutral", "intensity": 0.7}]
