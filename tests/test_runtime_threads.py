"""The thread layout: CPUs from affinity and cgroup quotas, the choice, the settings, the sessions built with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from affectlens import runtime_threads as rt
from affectlens.runtime_threads import (
    SPINNING_ENV,
    THREADS_ENV,
    ThreadSettingError,
    available_cpus,
    cgroup_cpu_limit,
    choose_layout,
    current_layout,
    parse_spinning,
    parse_threads,
)
from affectlens.testing import add_tiny_vad_student, make_tiny_text_model


@pytest.fixture(autouse=True)
def _no_layout_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # set, then deleted: monkeypatch then restores the variables that ``configure`` (and the
    # CLI options) write into os.environ, so no other test sees them
    for name in (THREADS_ENV, SPINNING_ENV):
        monkeypatch.setenv(name, "auto")
        monkeypatch.delenv(name)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")


# -- cgroup quotas ----------------------------------------------------------------------------


def test_cgroup_v2_quota_of_the_process_cgroup(tmp_path: Path) -> None:
    _write(tmp_path / "system.slice/app.service/cpu.max", "150000 100000")
    assert cgroup_cpu_limit(tmp_path, "0::/system.slice/app.service\n") == pytest.approx(1.5)


def test_cgroup_v2_unlimited_is_none(tmp_path: Path) -> None:
    _write(tmp_path / "user.slice/cpu.max", "max 100000")
    assert cgroup_cpu_limit(tmp_path, "0::/user.slice\n") is None


def test_cgroup_v2_a_tighter_ancestor_wins(tmp_path: Path) -> None:
    _write(tmp_path / "outer/cpu.max", "100000 100000")
    _write(tmp_path / "outer/inner/cpu.max", "400000 100000")
    assert cgroup_cpu_limit(tmp_path, "0::/outer/inner\n") == pytest.approx(1.0)


def test_cgroup_v2_container_root(tmp_path: Path) -> None:
    # inside a container /proc/self/cgroup says "0::/" and the quota sits at the mount's root
    _write(tmp_path / "cpu.max", "50000 100000")
    assert cgroup_cpu_limit(tmp_path, "0::/\n") == pytest.approx(0.5)


def test_cgroup_v1_quota_and_unlimited(tmp_path: Path) -> None:
    folder = tmp_path / "cpu,cpuacct" / "docker" / "abc"
    _write(folder / "cpu.cfs_quota_us", "200000")
    _write(folder / "cpu.cfs_period_us", "100000")
    lines = "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n"
    assert cgroup_cpu_limit(tmp_path, lines) == pytest.approx(2.0)
    _write(folder / "cpu.cfs_quota_us", "-1")
    assert cgroup_cpu_limit(tmp_path, lines) is None


def test_no_cgroup_files_means_no_limit(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(tmp_path, "0::/nowhere\n") is None
    assert cgroup_cpu_limit(tmp_path, "garbage\n") is None


@pytest.mark.parametrize(("affinity", "limit", "expected"), [
    (2, None, 2),  # no quota: the affinity mask
    (8, 1.5, 2),  # docker --cpus 1.5 on 8 cores: 2 pools threads would be over-subscribed by 0.5 at most
    (8, 2.0, 2),
    (4, 0.5, 1),  # under one CPU: still one thread
    (1, 4.0, 1),  # taskset -c 0 under a generous quota
])
def test_available_cpus_is_affinity_capped_by_the_quota(affinity: int, limit: float | None, expected: int) -> None:
    assert available_cpus(affinity=affinity, cgroup_limit=limit, read_cgroup=False) == expected


def test_available_cpus_reads_the_affinity_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rt.os, "sched_getaffinity", lambda pid: {0, 1, 2})
    monkeypatch.setattr(rt, "cgroup_cpu_limit", lambda *a, **k: None)
    assert available_cpus() == 3
    monkeypatch.setattr(rt, "cgroup_cpu_limit", lambda *a, **k: 1.0)
    assert available_cpus() == 1


# -- the choice -------------------------------------------------------------------------------


@pytest.mark.parametrize(("cpus", "pools", "threads", "spinning"), [
    (1, 1, 1, False),
    (2, 1, 2, False),  # every core, but other processes may want them: no spinning unless asked
    (2, 2, 1, False),  # two pools of ours at once: one core each
    (8, 1, 4, False),  # capped at 4
    (4, 1, 4, False),
    (16, 2, 4, False),
    (3, 2, 1, False),
])
def test_choose_layout_automatic(cpus: int, pools: int, threads: int, spinning: bool) -> None:
    layout = choose_layout(cpus, pools=pools)
    assert (layout.cpus, layout.threads, layout.spinning, layout.source) == (cpus, threads, spinning, "auto")


def test_choose_layout_explicit_values_win() -> None:
    assert choose_layout(2, threads=1).spinning is False
    assert choose_layout(2, threads=1, spinning=True).spinning is True
    assert choose_layout(2, spinning=True) == rt.ThreadLayout(2, 2, True, "auto")
    assert choose_layout(2, spinning=False) == rt.ThreadLayout(2, 2, False, "auto")
    assert choose_layout(1, threads=3, source="argument").threads == 3


@pytest.mark.parametrize(("raw", "expected"), [(None, None), ("", None), ("auto", None), (" AUTO ", None),
                                               ("0", None), ("1", 1), ("3", 3), (2, 2)])
def test_parse_threads(raw: Any, expected: int | None) -> None:
    assert parse_threads(raw) == expected


@pytest.mark.parametrize("raw", ["two", "-1", "1.5"])
def test_parse_threads_rejects(raw: str) -> None:
    with pytest.raises(ThreadSettingError, match=THREADS_ENV):
        parse_threads(raw)


@pytest.mark.parametrize(("raw", "expected"), [(None, None), ("auto", None), ("on", True), ("1", True),
                                               ("OFF", False), ("false", False), (True, True)])
def test_parse_spinning(raw: Any, expected: bool | None) -> None:
    assert parse_spinning(raw) == expected


def test_parse_spinning_rejects() -> None:
    with pytest.raises(ThreadSettingError, match=SPINNING_ENV):
        parse_spinning("sometimes")


def test_current_layout_precedence() -> None:
    env = {THREADS_ENV: "1", SPINNING_ENV: "on"}
    assert current_layout(environ={}, cpus=2) == rt.ThreadLayout(2, 2, False, "auto")
    assert current_layout(environ=env, cpus=2) == rt.ThreadLayout(2, 1, True, THREADS_ENV)
    assert current_layout(threads=2, environ=env, cpus=2) == rt.ThreadLayout(2, 2, True, "argument")
    assert current_layout(environ={THREADS_ENV: "auto"}, cpus=2, pools=2).threads == 1


def test_configure_writes_what_child_processes_inherit(monkeypatch: pytest.MonkeyPatch) -> None:
    rt.configure(threads="1", spinning="off")
    assert (rt.os.environ[THREADS_ENV], rt.os.environ[SPINNING_ENV]) == ("1", "off")
    rt.configure(threads="auto")
    assert rt.os.environ[THREADS_ENV] == "auto"
    with pytest.raises(ThreadSettingError):
        rt.configure(spinning="maybe")


# -- sessions get the layout --------------------------------------------------------------------


def _spinning(session: Any) -> str:
    return str(session.get_session_options().get_session_config_entry(rt.ALLOW_SPINNING))


def test_text_sessions_get_the_configured_threads_and_spinning(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    folder = make_tiny_text_model(tmp_path / "m")
    monkeypatch.setattr(rt, "available_cpus", lambda: 2)
    monkeypatch.setenv(THREADS_ENV, "1")
    rec = TextOnnxRecognizer(folder)
    rec.load()
    assert (rec._session.get_session_options().intra_op_num_threads, rec._workers) == (1, 1)
    assert _spinning(rec._session) == "0"
    monkeypatch.setenv(THREADS_ENV, "2")
    monkeypatch.setenv(SPINNING_ENV, "on")
    rec = TextOnnxRecognizer(folder)
    rec.load()
    # two threads: two batches at once, each on a single-thread session run (text_encoder._run_batches)
    assert (rec._session.get_session_options().intra_op_num_threads, rec._workers) == (1, 2)
    assert _spinning(rec._session) == "1"
    explicit = TextOnnxRecognizer(folder, threads=1)  # an argument beats the environment
    explicit.load()
    assert (explicit._session.get_session_options().intra_op_num_threads, explicit._workers) == (1, 1)


def test_automatic_text_layout_follows_the_cpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    folder = make_tiny_text_model(tmp_path / "m")
    monkeypatch.setattr(rt, "available_cpus", lambda: 2)
    alone = TextOnnxRecognizer(folder)
    alone.load()
    assert (alone._workers, alone._session.get_session_options().intra_op_num_threads,
            _spinning(alone._session)) == (2, 1, "0")
    monkeypatch.setattr(rt, "available_cpus", lambda: 1)
    small = TextOnnxRecognizer(folder)
    small.load()
    assert (small._workers, small._session.get_session_options().intra_op_num_threads,
            _spinning(small._session)) == (1, 1, "0")


def test_a_model_config_cannot_turn_spinning_back_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    monkeypatch.setenv(SPINNING_ENV, "off")
    rec = TextOnnxRecognizer(make_tiny_text_model(tmp_path / "m"), session_config={rt.ALLOW_SPINNING: "1"})
    rec.load()
    assert _spinning(rec._session) == "0"


def test_a_branched_models_two_sessions_get_the_same_layout(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    monkeypatch.setattr(rt, "available_cpus", lambda: 2)
    rec = TextOnnxRecognizer(add_tiny_vad_student(make_tiny_text_model(tmp_path / "b")))
    rec.load()
    assert rec._workers == 2  # two batches at once, each running both sessions on one thread
    for session in (rec._session, rec._vad_session):
        assert session.get_session_options().intra_op_num_threads == 1
        assert _spinning(session) == "0"


# -- through the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def session_spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """(intra-op threads, spinning entry) of every onnxruntime session built."""
    import onnxruntime as ort

    built: list[tuple[int, str]] = []
    real = ort.InferenceSession

    def spy(path: Any, options: Any = None, *args: Any, **kwargs: Any) -> Any:
        options = kwargs.pop("sess_options", options)
        built.append((options.intra_op_num_threads, options.get_session_config_entry(rt.ALLOW_SPINNING)))
        return real(path, options, *args, **kwargs)

    monkeypatch.setattr(ort, "InferenceSession", spy)
    return built


def test_cli_threads_option_reaches_the_sessions(session_spy: list[tuple[int, str]],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from affectlens.cli import run

    assert run(["--threads", "1", "--thread-spinning", "off", "analyze", "I am so happy", "--format", "json"]) == 0
    assert session_spy and set(session_spy) == {(1, "0")}


def test_cli_honours_the_environment(session_spy: list[tuple[int, str]], monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from affectlens.cli import run

    monkeypatch.setenv(THREADS_ENV, "1")
    monkeypatch.setenv(SPINNING_ENV, "on")
    assert run(["analyze", "I am so happy", "--format", "json"]) == 0
    assert session_spy and set(session_spy) == {(1, "1")}


def test_cli_rejects_a_bad_value(capsys: pytest.CaptureFixture[str]) -> None:
    from affectlens.cli import run

    assert run(["--threads", "many", "analyze", "hi"]) == 2
    assert "expected 'auto' or a number" in capsys.readouterr().err


def test_serve_threads_option_and_environment_set_the_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    from affectlens.cli import run
    from affectlens.service import app as service_app

    seen: list[tuple[str, str, rt.ThreadLayout]] = []

    def fake_run_server(settings: Any, *, log_level: str = "info") -> None:  # what the models will see
        seen.append((settings.threads, settings.thread_spinning, current_layout(cpus=2)))

    monkeypatch.setattr(service_app, "run_server", fake_run_server)
    assert run(["serve"]) == 0
    assert seen[-1] == ("auto", "auto", rt.ThreadLayout(2, 2, False, "auto"))
    monkeypatch.setenv(SPINNING_ENV, "on")
    assert run(["serve", "--threads", "1"]) == 0
    assert seen[-1] == ("1", "on", rt.ThreadLayout(2, 1, True, THREADS_ENV))


def test_serve_rejects_a_bad_thread_setting(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from affectlens.cli import run
    from affectlens.service import app as service_app

    monkeypatch.setattr(service_app, "run_server", lambda settings, **kw: None)
    assert run(["serve", "--threads", "lots"]) == 2
    assert "AFFECTLENS_THREADS" in capsys.readouterr().err
