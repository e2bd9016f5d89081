"""One suffix table: ``affectlens.file_types`` is the only module that writes input suffixes down."""

from __future__ import annotations

import ast
from pathlib import Path

from affectlens import file_readers, file_types
from affectlens.types import Modality

SRC = Path(file_types.__file__).resolve().parent
#: modules allowed to list suffixes, and why
EXEMPT = {
    "file_types.py": "the table itself",
    "file_readers.py": "reads the table (imports it)",
    "testing/bad_inputs.py": "a corpus generator: it picks a few formats of each kind to damage, it reads nothing",
    "output.py": "output formats (what results are written as), not inputs",
}
KNOWN = {*file_readers.FILE_TYPES, *file_types.TABLE_FORMATS, *file_types.DIALOGUE_SUFFIXES}


def _suffix_literals(tree: ast.AST) -> list[tuple[int, list[str]]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set | ast.Dict):
            elements = node.keys if isinstance(node, ast.Dict) else node.elts
            suffixes = [e.value for e in elements if isinstance(e, ast.Constant) and e.value in KNOWN]
            if len(suffixes) >= 2:
                found.append((node.lineno, suffixes))
    return found


def test_no_other_module_defines_its_own_suffix_set() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative in EXEMPT or relative.startswith("training/"):
            continue
        for line, suffixes in _suffix_literals(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{relative}:{line}: {suffixes}")
    assert offenders == [], "suffix sets outside affectlens.file_types:\n" + "\n".join(offenders)


def test_the_check_finds_a_suffix_set() -> None:
    assert _suffix_literals(ast.parse('VIDEO = (".mp4", ".m4v")')) == [(1, [".mp4", ".m4v"])]


def test_m4v_is_a_video_for_every_reader() -> None:
    from affectlens.audio.decode import VIDEO_SUFFIXES as AUDIO_TRACK_CONTAINERS
    from affectlens.vision import VIDEO_SUFFIXES

    assert ".m4v" in VIDEO_SUFFIXES and ".m4v" in AUDIO_TRACK_CONTAINERS
    assert file_readers.FILE_TYPES[".m4v"].modality is Modality.FACE
    assert file_types.is_media("clip.M4V") and not file_types.is_media("clip.srt")


def test_dialogue_tables_are_the_tables() -> None:
    from affectlens.dialogue.io import TABLE_SUFFIXES

    assert set(TABLE_SUFFIXES) == set(file_types.TABLE_FORMATS)


def test_a_missing_subtitle_file_looks_like_a_path() -> None:
    assert file_readers.looks_like_path("talk.srt") and file_readers.looks_like_path("talk.vtt")
