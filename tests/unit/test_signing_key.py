"""The key that signs packs: from HARNESS_SECRET, or generated once and kept private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from harness.settings import Settings
from harness.signing_key import UnreadableKey, load_signing_key


def test_harness_secret_is_the_key_and_no_file_is_written(tmp_path: Path) -> None:
    key = load_signing_key(Settings(data_dir=tmp_path, secret="s3cret"))
    assert key == b"s3cret"
    assert not (tmp_path / "secret").exists()


def test_a_generated_key_is_private_and_the_same_on_the_next_start(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = load_signing_key(settings)
    assert len(first) == 64
    assert stat.S_IMODE((tmp_path / "data" / "secret").stat().st_mode) == 0o600
    assert load_signing_key(settings) == first
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["secret"]


def test_a_key_file_readable_by_others_is_made_private(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("abc\n")
    (tmp_path / "secret").chmod(0o644)
    assert load_signing_key(Settings(data_dir=tmp_path)) == b"abc"
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600


def test_an_empty_key_file_is_refused_rather_than_signing_with_nothing(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("")
    with pytest.raises(UnreadableKey):
        load_signing_key(Settings(data_dir=tmp_path))
