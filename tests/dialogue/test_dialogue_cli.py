from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from affectlens import cli


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _write_dialogue(path: Path, dialogue_id: str, turns: list[tuple[str, str]]) -> Path:
    """A turn table (CSV) of one dialogue: ``turns`` are (speaker, text)."""
    pd.DataFrame([{"dialogue_id": dialogue_id, "speaker": speaker, "text": text}
                  for speaker, text in turns]).to_csv(path, index=False)
    return path


def test_analyze_table_as_dialogues(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_dialogue(tmp_path / "turns.csv", "d1", [("Anna", "I am so happy"), ("Ben", "I am angry"),
                                                           ("Anna", "now I am sad"), ("Ben", "")])
    code, out, err = _run(capsys, "analyze", str(path), "--dialogue", "--model", "dummy.keywords.v1",
                          "--format", "jsonl")
    assert code == 0
    (result,) = [json.loads(line) for line in out.splitlines()]
    assert [(s["turn"], s["speaker"]) for s in result["segments"]] == [(0, "Anna"), (1, "Ben"), (2, "Anna")]
    shift = [c for c in result["segments"][2]["cues"] if c["kind"] == "emotion_shift"]
    assert shift and shift[0]["turn"] == 1
    assert "empty turn" in err and "1 emotion shift(s)" in err and "context-free" in err


def test_analyze_srt_without_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "talk.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:02,000\nANNA: so happy\n\n"
                    "2\n00:00:01,500 --> 00:00:03,000\nBEN: so scared\n")
    code, out, err = _run(capsys, "analyze", str(path), "-m", "dummy.keywords.v1", "-f", "csv",
                          "--labels", "sentiment")
    assert code == 0, err
    frame_lines = out.strip().splitlines()
    assert len(frame_lines) == 3 and "ANNA" in frame_lines[1] and "sentiment" in frame_lines[1]
    assert "overlaps turn 0" in err


def test_dialogue_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"text": ["hi"]}).to_csv(path, index=False)
    code, _, err = _run(capsys, "analyze", str(path), "--dialogue", "-m", "dummy.keywords.v1")
    assert code != 0 and "error:" in err and "dialogue_id" in err and "Traceback" not in err


def test_dialogues_stream_in_calls_with_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import affectlens.cli.dialogue as dialogue_cli
    import affectlens.dialogue.analysis as dialogue_analysis

    path = _five_dialogues(tmp_path)
    monkeypatch.setattr(dialogue_analysis, "TURNS_PER_CALL", 4)  # two dialogues per call
    updates: list[tuple[int, int | None, str]] = []
    count = dialogue_cli.run_dialogue_analysis(path, "jsonl", None, model="dummy.keywords.v1",
                                               progress=lambda u: updates.append((u.done, u.total, u.unit)))
    out, err = capsys.readouterr()
    assert count == 5
    assert [json.loads(line)["record_id"] for line in out.splitlines()] == [f"d{k}" for k in range(5)]
    assert updates == [(4, 10, "turns"), (8, 10, "turns"), (10, 10, "turns")]
    assert "5 dialogue(s), 10 turn(s)" in err


def _five_dialogues(tmp_path: Path) -> Path:
    path = tmp_path / "turns.csv"
    pd.DataFrame([{"dialogue_id": f"d{k}", "speaker": s, "text": t} for k in range(5)
                  for s, t in (("Anna", "I am so happy"), ("Ben", "I am angry"))]).to_csv(path, index=False)
    return path


def test_resume_appends_only_the_dialogues_not_yet_written(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path, out = _five_dialogues(tmp_path), tmp_path / "out.jsonl"
    code, _, err = _run(capsys, "analyze", str(path), "--dialogue", "-m", "dummy.keywords.v1", "--out", str(out))
    assert code == 0, err
    full = out.read_text().splitlines()
    # a run killed after two dialogues, in the middle of writing the third
    out.write_text("\n".join(full[:2]) + "\n" + full[2][: len(full[2]) // 2])
    code, _, err = _run(capsys, "analyze", str(path), "--dialogue", "-m", "dummy.keywords.v1", "--out", str(out),
                        "--resume")
    assert code == 0, err
    assert "2 dialogue(s) already in" in err and "3 dialogue(s), 6 turn(s)" in err
    assert out.read_text().splitlines() == full  # same records, none twice, the cut line replaced
    code, _, err = _run(capsys, "analyze", str(path), "--dialogue", "-m", "dummy.keywords.v1", "--out", str(out),
                        "--resume")
    assert code == 0 and "5 dialogue(s) already in" in err and out.read_text().splitlines() == full


def test_resume_refuses_records_of_another_label_set_or_format(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    path, out = _five_dialogues(tmp_path), tmp_path / "out.jsonl"
    _run(capsys, "analyze", str(path), "--dialogue", "-m", "dummy.keywords.v1", "--out", str(out))
    out.write_text(out.read_text().splitlines()[0] + "\n")
    code, _, err = _run(capsys, "analyze", str(path), "--dialogue", "-m", "dummy.keywords.v1", "--out", str(out),
                        "--resume", "--labels", "sentiment")
    assert code != 0 and "cannot resume" in err and "Traceback" not in err
    assert len(out.read_text().splitlines()) == 1  # nothing appended
    code, _, err = _run(capsys, "analyze", str(path), "--dialogue", "-m", "dummy.keywords.v1",
                        "--out", str(tmp_path / "out.csv"), "--resume")
    assert code != 0 and "--resume needs" in err
    other = tmp_path / "other.csv"  # another input: none of its dialogues is in out
    pd.read_csv(path).assign(dialogue_id=lambda f: "other-" + f["dialogue_id"]).to_csv(other, index=False)
    code, _, err = _run(capsys, "analyze", str(other), "--dialogue", "-m", "dummy.keywords.v1", "--out", str(out),
                        "--resume")
    assert code != 0 and "does not have" in err and len(out.read_text().splitlines()) == 1
    out.write_text("not json\n")
    code, _, err = _run(capsys, "analyze", str(path), "--dialogue", "-m", "dummy.keywords.v1", "--out", str(out),
                        "--resume")
    assert code != 0 and "line 1 is not a result record" in err


@pytest.mark.skipif(not (Path(__file__).resolve().parents[2] / "src/affectlens/models/support-esconv-minilm-v1"
                         / "config.json").is_file(), reason="support model not in place")
def test_analyze_dialogue_with_support(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_dialogue(tmp_path / "chat.csv", "c1", [
        ("seeker", "I lost my job and I feel awful."), ("helper", "I'm so sorry. What happened?"),
        ("seeker", "They closed the office. I don't know what to do.")])
    code, out, err = _run(capsys, "analyze", str(path), "--support", "--supporter", "helper", "--format", "jsonl")
    assert code == 0, err
    (result,) = [json.loads(line) for line in out.splitlines()]
    support = [s["extras"]["support"] for s in result["segments"] if "support" in s["extras"]]
    assert [p["after_turn"] for p in support] == [0, 2]
    assert support[-1]["suggested"] and "not therapy" in support[-1]["notice"]
    assert result["segments"][1]["extras"]["strategy"]
    assert "not therapy" in err
