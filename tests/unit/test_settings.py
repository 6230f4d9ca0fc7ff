"""Settings come from .env and the environment (SPEC §9), the environment winning."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import Invalid
from harness.settings import Settings


def test_defaults_are_the_specs(tmp_path: Path) -> None:
    settings = Settings.from_env({}, dotenv=tmp_path / "missing.env")
    assert (settings.host, settings.port, settings.max_runs) == ("127.0.0.1", 7860, 4)
    assert settings.log_path == Path("data") / "runs.jsonl"
    assert settings.token is None and settings.secret is None


def test_a_dotenv_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("# local setup\nPORT=9000\nHARNESS_DATA_DIR='/srv/harness'\n"
                      "HARNESS_MAX_RUNS=2\nHARNESS_TOKEN=from-file\n")
    settings = Settings.from_env({"HARNESS_TOKEN": "from-env"}, dotenv=dotenv)
    assert settings.port == 9000
    assert settings.data_dir == Path("/srv/harness")
    assert settings.max_runs == 2
    assert settings.token == "from-env"


def test_command_line_overrides_beat_both(tmp_path: Path) -> None:
    settings = Settings.from_env({"PORT": "9000"}, dotenv=tmp_path / "none", port=7000,
                                 data_dir="elsewhere")
    assert settings.port == 7000 and settings.data_dir == Path("elsewhere")


@pytest.mark.parametrize("environ, name", [({"PORT": "eighty"}, "PORT"),
                                           ({"HARNESS_MAX_RUNS": "0"}, "HARNESS_MAX_RUNS"),
                                           ({"HARNESS_LOG": "redis://x"}, "HARNESS_LOG"),
                                           ({"HARNESS_APPEND_DEADLINE_S": "0"},
                                            "HARNESS_APPEND_DEADLINE_S"),
                                           ({"HARNESS_LEASE_TTL_S": "inf"},
                                            "HARNESS_LEASE_TTL_S"),
                                           ({"HARNESS_SSE_ITEM_WINDOW_S": "-0.5"},
                                            "HARNESS_SSE_ITEM_WINDOW_S"),
                                           ({"HARNESS_SNAPSHOT_S": "0.000001"},
                                            "HARNESS_SNAPSHOT_S")])
def test_a_bad_value_is_refused_naming_the_variable(tmp_path: Path, environ: dict[str, str],
                                                    name: str) -> None:
    with pytest.raises(Invalid, match=name):
        Settings.from_env(environ, dotenv=tmp_path / "none")


def test_exposure_and_connection_settings_come_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env({"HARNESS_ALLOW_UNAUTHENTICATED": "1",
                                  "HARNESS_ALLOWED_HOSTS": "harness.lan, ,proxy.example",
                                  "HARNESS_MAX_CONNECTIONS": "64"},
                                 dotenv=tmp_path / "missing.env")
    assert settings.allow_unauthenticated is True
    assert settings.allowed_hosts == ("harness.lan", "proxy.example")
    assert settings.max_connections == 64
    with pytest.raises(Invalid):
        Settings.from_env({"HARNESS_MAX_CONNECTIONS": "2"}, dotenv=tmp_path / "missing.env")


def test_the_log_backend_is_a_setting(tmp_path: Path) -> None:
    assert Settings.from_env({}, dotenv=tmp_path / "none").log == "file"
    chosen = Settings.from_env({"HARNESS_LOG": "nats://127.0.0.1:4222/HARNESS"},
                               dotenv=tmp_path / "none")
    assert chosen.log == "nats://127.0.0.1:4222/HARNESS"


@pytest.mark.parametrize("written", ["0", "0.0", "00"])
def test_the_item_window_may_be_zero_however_written(tmp_path: Path, written: str) -> None:
    settings = Settings.from_env({"HARNESS_SSE_ITEM_WINDOW_S": written},
                                 dotenv=tmp_path / "none")
    assert settings.sse_item_window_s == 0
