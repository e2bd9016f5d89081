"""Training on first use is opt-in (library, CLI) and impossible under ``training_forbidden``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from affectlens.readiness import TRAIN_ENV, readiness, training_allowed, training_forbidden
from affectlens.registry import get_spec
from tiny_corpora import write_tiny_goemotions


def test_training_is_off_unless_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TRAIN_ENV, raising=False)
    assert not training_allowed()
    assert training_allowed(True)
    monkeypatch.setenv(TRAIN_ENV, "1")
    assert training_allowed() and not training_allowed(False)
    with training_forbidden():  # the service's rule beats every opt-in
        assert not training_allowed() and not training_allowed(True)
    assert training_allowed()


def test_tfidf_peer_does_not_train_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sklearn")
    from affectlens.recognizers.peers import PeerModelMissing, TfidfLogRegRecognizer

    monkeypatch.delenv(TRAIN_ENV, raising=False)
    data = write_tiny_goemotions(tmp_path / "data")
    model = TfidfLogRegRecognizer(data_root=data, cache=tmp_path / "cache")
    assert "AFFECTLENS_PEER_TRAIN=1" in (model.readiness() or "")
    with pytest.raises(PeerModelMissing, match=r"off by default.*AFFECTLENS_PEER_TRAIN=1 affectlens analyze"):
        model.load()
    assert not (tmp_path / "cache").exists()
    with training_forbidden(), pytest.raises(PeerModelMissing, match="never trains"):
        TfidfLogRegRecognizer(data_root=data, cache=tmp_path / "cache", train_if_missing=True).load()
    assert not (tmp_path / "cache").exists()
    # asked for explicitly: it trains, and is ready from then on
    TfidfLogRegRecognizer(data_root=data, cache=tmp_path / "cache", train_if_missing=True).load()
    assert TfidfLogRegRecognizer(data_root=data, cache=tmp_path / "cache").readiness() is None


def test_readiness_of_registered_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sklearn")
    from affectlens.recognizers.peers import TFIDF_NAME, register_peers

    register_peers()
    monkeypatch.setenv("AFFECTLENS_DATA", str(write_tiny_goemotions(tmp_path / "data")))
    monkeypatch.setenv("AFFECTLENS_CACHE", str(tmp_path / "cache"))
    assert "no trained model" in (readiness(get_spec(TFIDF_NAME)) or "")


def test_cli_refuses_to_train_without_the_opt_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sklearn")
    from affectlens.cli import app

    monkeypatch.delenv(TRAIN_ENV, raising=False)
    monkeypatch.setenv("AFFECTLENS_DATA", str(write_tiny_goemotions(tmp_path / "data")))
    monkeypatch.setenv("AFFECTLENS_CACHE", str(tmp_path / "cache"))
    result = CliRunner().invoke(app, ["analyze", "--model", "peer.tfidf-logreg.v1", "I feel joy"])
    assert result.exit_code != 0
    assert "AFFECTLENS_PEER_TRAIN=1" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "cache").exists()
