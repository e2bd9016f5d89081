"""Drafting supporter replies with the user's LLM: a local fake endpoint, never a real one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from affectlens.bench.esconv_data import EsconvDialogue
from affectlens.dialogue.support import SupportRecognizer
from affectlens.dialogue.support_features import STRATEGIES
from affectlens.dialogue.types import Dialogue, Turn
from affectlens.llm.client import ChatClient
from affectlens.llm.config import LLMConfig, LLMNotConfigured
from affectlens.llm.support import STRATEGY_GUIDE, draft_reply, strategy_study
from affectlens.llm.testing import FakeChatServer
from affectlens.testing.support_model import FakeText, write_tiny_model


def responder(request: dict[str, Any]) -> str:
    prompt = request["messages"][-1]["content"]
    if "using the strategy" in prompt:
        return json.dumps({"reply": "Have you thought about talking to your manager?",
                           "explanation": "They asked what to do."})
    return json.dumps({"reply": "That sounds really hard, I am sorry."})


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    with FakeChatServer(responder) as fake:
        yield fake


@pytest.fixture
def client(server: FakeChatServer, tmp_path: Path) -> ChatClient:
    return ChatClient(LLMConfig(url=server.url, model="fake", cache=False, timeout=2.0, backoff=0.01))


@pytest.fixture
def recognizer(tmp_path: Path) -> SupportRecognizer:
    return SupportRecognizer(write_tiny_model(tmp_path), text_model=FakeText())


def _dialogue(*turns: tuple[str, str]) -> Dialogue:
    return Dialogue("d", tuple(Turn(i, s, t) for i, (s, t) in enumerate(turns)))


def test_draft_follows_the_chosen_strategy(server: FakeChatServer, client: ChatClient) -> None:
    dialogue = _dialogue(("usr", "I might lose my job"), ("sys", "I'm sorry."), ("usr", "what should I do?"))
    draft = draft_reply(dialogue, "Providing Suggestions", client=client)
    assert draft.reply and draft.strategy == "Providing Suggestions" and draft.explanation
    assert draft.suggested_by == "user" and "not therapy" in draft.to_dict()["notice"]
    prompt = server.requests[-1]["messages"][-1]["content"]
    assert STRATEGY_GUIDE["Providing Suggestions"] in prompt and "Seeker: what should I do?" in prompt


def test_draft_uses_our_suggestion_by_default(client: ChatClient, recognizer: SupportRecognizer) -> None:
    dialogue = _dialogue(("usr", "I feel sad"), ("sys", "Why?"), ("usr", "my dog died"))
    draft = draft_reply(dialogue, client=client, recognizer=recognizer)
    assert draft.suggested_by == "model" and draft.strategy in STRATEGIES


def test_crisis_language_drafts_nothing(server: FakeChatServer, client: ChatClient) -> None:
    dialogue = _dialogue(("usr", "hi"), ("sys", "hello"), ("usr", "I want to end my life"))
    draft = draft_reply(dialogue, "Question", client=client)
    assert draft.reply is None and draft.to_dict()["route_to_person"]
    assert server.requests == []


def test_unconfigured_sends_nothing(server: FakeChatServer, monkeypatch: pytest.MonkeyPatch,
                                    tmp_path: Path) -> None:
    for name in ("AFFECTLENS_LLM_URL", "AFFECTLENS_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AFFECTLENS_LLM_CONFIG", str(tmp_path / "none.toml"))
    with pytest.raises(LLMNotConfigured):
        draft_reply(_dialogue(("usr", "hi"), ("sys", "hello"), ("usr", "ok")), "Question")
    assert server.requests == []


def test_bad_strategy_is_refused(client: ChatClient) -> None:
    with pytest.raises(ValueError, match="strategy must be one of"):
        draft_reply(_dialogue(("usr", "hi"), ("sys", "yo")), "Hugging", client=client)


def test_strategy_study_with_and_without_suggestion(server: FakeChatServer, client: ChatClient,
                                                    recognizer: SupportRecognizer) -> None:
    dialogues = [EsconvDialogue(f"t-{k}", "sadness", "job", "", ("usr", "sys", "usr", "sys"),
                                ("I lost my job", "I'm sorry", "I am sad", "What happened?"),
                                (None, "Others", None, "Question")) for k in range(3)]
    report = strategy_study(dialogues, client=client, recognizer=recognizer, limit=4, on_progress=lambda _: None)
    assert report["points"] == 4 and report["drawn"] == 4
    for key in ("llm_alone", "llm_with_our_suggestion", "our_suggestion"):
        assert 0.0 <= report[key]["match_human"] <= 1.0
        assert abs(sum(report[key]["share"].values()) - 1.0) < 1e-6
    assert len(server.requests) == 8  # two drafts per point: without, then with the suggestion
