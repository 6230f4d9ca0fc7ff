"""Choosing a provider by name, and the settings the openai provider reads."""

from __future__ import annotations

import pytest

from harness.errors import Invalid
from harness.providers import PROVIDER_NAMES, make_provider
from harness.settings import Settings


@pytest.mark.parametrize("name", ["simulated", "Simulated", "SIMULATED", "openai", "OpenAI"])
def test_provider_names_are_case_insensitive(name: str) -> None:
    assert make_provider(name, Settings()).name == name.lower()


def test_an_unknown_provider_is_invalid_and_lists_the_known_ones() -> None:
    with pytest.raises(Invalid) as raised:
        make_provider("anthropic-ish", Settings())
    assert raised.value.status == 422
    assert "openai, simulated" in raised.value.message
    assert raised.value.details["known"] == list(PROVIDER_NAMES)


def test_openai_endpoint_and_key_come_from_the_environment(tmp_path) -> None:
    settings = Settings.from_env({"OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
                                  "OPENAI_API_KEY": "sk-x"}, dotenv=tmp_path / "none.env")
    assert (settings.openai_base_url, settings.openai_api_key) == ("http://127.0.0.1:9/v1", "sk-x")


def test_openai_defaults_to_the_public_endpoint_without_a_key(tmp_path) -> None:
    settings = Settings.from_env({}, dotenv=tmp_path / "none.env")
    assert (settings.openai_base_url, settings.openai_api_key) == ("https://api.openai.com/v1",
                                                                   None)
