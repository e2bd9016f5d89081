from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from affectlens import registry
from affectlens.builtin_models import BUILTIN_SPECS
from affectlens.registry import RecognizerSpec, UnknownRecognizer
from affectlens.types import Modality

#: Snapshot of the registered recognizers.  A change here is a change of the public model
#: list: update it on purpose (and the model docs), never to make a test pass.
REGISTRY_SNAPSHOT = [
    ("dialogue.minilm-meld-bigru.v1", "text", "meld", False),
    ("face.ferplus-cnn.v1", "face", "ferplus", False),
    ("face.ferplus-wild-fusion.v2", "face", "ferplus", False),
    ("face.ferplus-wild-fusion.v3", "face", "ferplus", False),
    ("face.ferplus-wild-fusion.v4", "face", "ferplus", False),
    ("face.ferplus-wild-fusion.v5", "face", "ferplus", True),
    ("peer.fer-minixception.v1", "face", "fer2013", False),
    ("peer.frozen-minilm-logreg.v1", "text", "goemotions", False),
    ("peer.nrc-lexicon.v1", "text", "ekman", False),
    ("peer.tfidf-logreg.v1", "text", "goemotions", False),
    ("peer.vader.v1", "text", "sentiment", False),
    ("speech.ravdess-cnn.v1", "speech", "ravdess", True),
    ("speech.whisper-tiny-xcorpus.v1", "speech", "ravdess", False),
    ("speech.whisper-xcorpus.v2", "speech", "ravdess", False),
    ("speech.whisper-xcorpus.v3", "speech", "ravdess", False),
    ("speech.whisper-xcorpus.v4", "speech", "ravdess", False),
    ("speech.whisper-xcorpus.v5", "speech", "ravdess", True),
    ("support.esconv-minilm.v1", "text", "goemotions", False),
    ("text.minilm-goemotions-float.v1", "text", "goemotions", False),
    ("text.minilm-goemotions.v1", "text", "goemotions", False),
    ("text.minilm-xcorpus.v2", "text", "goemotions", False),
    ("text.minilm-xcorpus.v3", "text", "goemotions", False),
    ("text.minilm-xcorpus.v4", "text", "goemotions", True),
]


def _spec(name: str, **kw: Any) -> RecognizerSpec:
    return RecognizerSpec(
        name=name,
        modality=kw.pop("modality", Modality.TEXT),
        label_set="ekman",
        factory="affectlens.testing:DummyRecognizer",
        **kw,
    )


def test_snapshot_of_registered_recognizers() -> None:
    # in a fresh process: what a user gets, whatever other tests registered in this one
    code = (
        "import json\nfrom affectlens import registry\n"
        "rows = [[s.name, s.modality.value, s.label_set, s.default] for s in registry.available()]\n"
        "print(json.dumps(rows))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert [tuple(row) for row in json.loads(proc.stdout)] == REGISTRY_SNAPSHOT


def test_register_and_lookup(isolated_registry: dict[str, RecognizerSpec]) -> None:
    spec = registry.register(_spec("text.example.v1"))
    assert registry.get_spec("text.example.v1") is spec
    assert spec.version == "v1"
    with pytest.raises(ValueError, match="already registered"):
        registry.register(_spec("text.example.v1"))
    registry.register(_spec("text.example.v1", description="new"), replace=True)
    assert registry.get_spec("text.example.v1").description == "new"


def test_versionless_name_picks_newest(isolated_registry: dict[str, RecognizerSpec]) -> None:
    registry.register(_spec("text.example.v1"))
    registry.register(_spec("text.example.v2"))
    assert registry.get_spec("text.example").name == "text.example.v2"


def test_unknown_name_lists_available() -> None:
    with pytest.raises(UnknownRecognizer, match=r"unknown model 'nope'.*dummy\.keywords\.v1"):
        registry.get_spec("nope")


def _without_speech(specs: dict[str, RecognizerSpec]) -> None:
    for name in [n for n, s in specs.items() if s.modality == Modality.SPEECH]:
        del specs[name]


def test_available_filters_by_modality(isolated_registry: dict[str, RecognizerSpec]) -> None:
    _without_speech(isolated_registry)
    registry.register(_spec("speech.example.v1", modality=Modality.SPEECH))
    assert [s.name for s in registry.available(Modality.SPEECH)] == ["speech.example.v1"]
    assert all(s.modality == Modality.TEXT for s in registry.available(Modality.TEXT))


def test_default_for(isolated_registry: dict[str, RecognizerSpec]) -> None:
    _without_speech(isolated_registry)
    with pytest.raises(UnknownRecognizer, match="no default model for speech"):
        registry.default_for(Modality.SPEECH)
    registry.register(_spec("speech.example.v1", modality=Modality.SPEECH, default=True))
    assert registry.default_for(Modality.SPEECH).name == "speech.example.v1"


def test_a_preferred_default_gives_way_when_its_modules_are_missing(
        isolated_registry: dict[str, RecognizerSpec]) -> None:
    _without_speech(isolated_registry)
    registry.register(_spec("speech.basic.v1", modality=Modality.SPEECH, default=True))
    registry.register(_spec("speech.rich.v2", modality=Modality.SPEECH, default=True, preference=1,
                            requires=("affectlens_no_such_module",)))
    assert registry.default_for(Modality.SPEECH).name == "speech.basic.v1"  # its module is not installed
    registry.register(_spec("speech.rich.v3", modality=Modality.SPEECH, default=True, preference=1,
                            requires=("numpy",)))
    assert registry.default_for(Modality.SPEECH).name == "speech.rich.v3"


def test_load_recognizer_builds_lazily() -> None:
    recognizer = registry.load_recognizer("dummy.keywords.v1")
    assert recognizer.name == "dummy.keywords.v1"
    assert not recognizer.is_loaded  # type: ignore[attr-defined]


@dataclass
class _FakeEntryPoint:
    name: str
    value: Any

    def load(self) -> Any:
        return self.value


def test_entry_point_plugins_are_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    registry.available()  # builtins imported once, before the registry is emptied below
    plugin = _spec("text.plugin.v1")
    several = [_spec("text.plugin-a.v1"), _spec("text.plugin-b.v1"), "not a spec"]
    seen_groups: list[str] = []

    def fake_entry_points(*, group: str) -> list[_FakeEntryPoint]:
        seen_groups.append(group)
        return [_FakeEntryPoint("one", plugin), _FakeEntryPoint("many", several)]

    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    names = [s.name for s in registry.available()]
    assert seen_groups == [registry.ENTRY_POINT_GROUP]
    builtin = {s.name for s in BUILTIN_SPECS}  # registered again: the registry owns their registration
    assert [n for n in names if n not in builtin] == ["text.plugin-a.v1", "text.plugin-b.v1", "text.plugin.v1"]
    assert builtin <= set(names)
