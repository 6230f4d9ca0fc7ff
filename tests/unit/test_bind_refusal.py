"""Without HARNESS_TOKEN the server will not expose its write API beyond this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

import run
from harness.errors import Invalid
from harness.settings import Settings


def test_run_py_refuses_a_public_host_without_a_token(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HARNESS_TOKEN", raising=False)
    assert run.main(["--host", "0.0.0.0", "--data-dir", str(tmp_path / "data")]) == 2
    assert "--allow-unauthenticated" in capsys.readouterr().err


def test_run_py_refuses_an_unknown_log_backend_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HARNESS_LOG", "kafka://somewhere/topic")
    assert run.main(["--data-dir", str(tmp_path / "data")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "HARNESS_LOG" in error and "kafka://" in error


@pytest.mark.parametrize("settings", [
    Settings(host="0.0.0.0", token="tok"),
    Settings(host="0.0.0.0", allow_unauthenticated=True),
    Settings(host="127.0.0.1"),
    Settings(host="::1"),
])
def test_a_token_a_flag_or_a_loopback_host_lets_the_server_bind(settings: Settings) -> None:
    settings.check_bind()


def test_a_public_host_without_a_token_is_refused() -> None:
    with pytest.raises(Invalid):
        Settings(host="0.0.0.0").check_bind()
