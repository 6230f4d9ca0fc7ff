"""A run's cost: shown when ``prices.json`` prices its provider/model, absent otherwise,
and a bad price list is a reason in the summary, never a 500 or a made-up number."""

from __future__ import annotations

import httpx
import pytest

from events import schema as ev
from harness.settings import Settings
from tests.support.events import TS, append, run_history

PRICES = b"""{"currency": "EUR", "models": {
  "Simulated/priced-model": {"inputPerMillion": 2.0, "outputPerMillion": 8.0}}}"""


def used_tokens(run_id: str, model: str) -> list[ev.Event]:
    """Two judged items: 1,500,000 prompt and 250,000 completion tokens in all."""
    events = run_history(run_id, total=2, answers=(True, False), finish=None)
    events[0] = ev.RunCreated(run_id=run_id, provider_name="simulated", model_name=model,
                              dataset_name="arithmetic", total=2, ts=TS)
    for sequence in (1, 2):
        events.append(ev.ItemAnswered(
            run_id=run_id, sequence=sequence, response_text="A", answer="A",
            usage=ev.Usage(prompt_tokens=750_000, completion_tokens=125_000), ts=TS))
    return events


def stats_with(server_factory, settings: Settings, prices: bytes | None, run_id: str,
               model: str) -> httpx.Response:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if prices is not None:
        (settings.data_dir / "prices.json").write_bytes(prices)
    server = server_factory()
    append(server.log_path, *used_tokens(run_id, model))
    server.settle()
    return httpx.get(f"{server.url}/api/runs/{run_id}/stats")


def test_a_priced_model_shows_what_its_tokens_cost(server_factory, settings):
    answer = stats_with(server_factory, settings, PRICES, "run-priced", "PRICED-model")
    assert answer.status_code == 200
    cost = answer.json()["cost"]
    assert cost["currency"] == "EUR"
    assert cost["input"] == pytest.approx(3.0)  # 1.5 M tokens at 2 per million
    assert cost["output"] == pytest.approx(2.0)  # 0.25 M tokens at 8 per million
    assert cost["total"] == pytest.approx(5.0)
    assert (answer.json()["usageItems"], answer.json()["answeredItems"]) == (2, 2)
    assert answer.json()["costProblem"] is None


def test_a_model_without_a_price_shows_no_cost(server_factory, settings):
    answer = stats_with(server_factory, settings, PRICES, "run-free", "other-model")
    assert answer.status_code == 200
    assert answer.json()["cost"] is None and answer.json()["costProblem"] is None


def test_no_price_list_shows_no_cost(server_factory, settings):
    answer = stats_with(server_factory, settings, None, "run-none", "priced-model")
    assert (answer.json()["cost"], answer.json()["costProblem"]) == (None, None)


@pytest.mark.parametrize("bad", [
    b'{"models": {"priced-model": {"inputPerMillion": 1, "outputPerMillion": 1}}}',
    b'{"models": {"simulated/priced-model": {"inputPerMillion": -1, "outputPerMillion": 1}}}',
    b'{"models": {"simulated/priced-model": {"input": 1}}}',
    b'{"currency": "dollars", "models": {}}',
    b'{"models": {"a/b": {"inputPerMillion": 1, "outputPerMillion": 1},'
    b' "A/B": {"inputPerMillion": 2, "outputPerMillion": 2}}}',
    b"not json \xff",
    b"[" * 5000,
])
def test_a_bad_price_list_is_named_in_the_summary_never_a_500(server_factory, settings, bad):
    answer = stats_with(server_factory, settings, bad, "run-bad", "priced-model")
    assert answer.status_code == 200
    assert answer.json()["cost"] is None
    assert "prices.json" in answer.json()["costProblem"]
