"""Forms: the new-run spec (provider fields, inline errors, queueing, cloning) and the
theme toggle's name."""

from __future__ import annotations

import httpx
import pytest

from events import schema as ev
from events.writer import append_events
from tests.support.events import TS
from tests.support.waiting import wait_until


def open_form(dashboard, hash_path: str = "#/new"):
    page = dashboard.open(hash_path)
    page.locator("select[name=datasetName] option[value]:not([value=''])").first.wait_for(
        state="attached")
    return page


def test_new_run_rejects_bad_config_inline_and_sends_config_and_labels(dashboard, server):
    page = open_form(dashboard)
    page.get_by_label("Queue it instead").check()
    config = page.get_by_label("More config (JSON, optional)")
    config.fill("[1, 2]")
    page.get_by_role("button", name="Add to queue").click()
    assert "must be a JSON object" in page.locator("#config-error").inner_text()
    assert config.get_attribute("aria-invalid") == "true"

    config.fill("")
    page.get_by_label("Seed", exact=True).fill("7")
    page.get_by_label("Labels (key=value, comma-separated)").fill("team=evals, suite=nightly")
    with page.expect_response(lambda r: r.url.endswith("/api/queue")
                              and r.request.method == "POST") as sent:
        page.get_by_role("button", name="Add to queue").click()
    assert sent.value.ok, sent.value.text()
    spec = sent.value.request.post_data_json
    assert spec["config"] == {"seed": 7}
    assert spec["labels"] == {"team": "evals", "suite": "nightly"}
    assert page.locator("#config-error").inner_text() == ""


@pytest.mark.parametrize("provider", ["simulated", "openai"])
def test_the_example_config_is_accepted_by_the_chosen_provider(dashboard, server, provider):
    page = open_form(dashboard)
    page.get_by_label("Provider").select_option(provider)
    example = page.get_by_label("More config (JSON, optional)").get_attribute("placeholder")
    page.get_by_label("More config (JSON, optional)").fill(example)
    page.get_by_label("Queue it instead").check()
    with page.expect_response(lambda r: r.url.endswith("/api/queue")) as sent:
        page.get_by_role("button", name="Add to queue").click()
    assert sent.value.status == 201, sent.value.text()


def test_a_422_is_shown_on_the_field_it_names(dashboard, server):
    page = open_form(dashboard)
    page.get_by_label("More config (JSON, optional)").fill('{"temperature": 0}')  # not simulated
    with page.expect_response(lambda r: r.url.endswith("/api/runs")) as sent:
        page.get_by_role("button", name="Start run").click()
    assert sent.value.status == 422
    error = page.locator("#config-error")
    error.filter(has_text="temperature").wait_for()
    assert page.get_by_label("More config (JSON, optional)").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.name") == "config"


def test_clone_run_fills_the_form_from_a_run(dashboard, server):
    append_events(server.log_path, [ev.RunCreated(
        run_id="run-orig", provider_name="simulated", model_name="sim-9",
        dataset_name=httpx.get(f"{server.url}/api/datasets").json()[0]["name"], total=5,
        config={"seed": 11, "concurrency": 2}, labels={"team": "evals"}, ts=TS)])
    page = dashboard.open("#/runs/run-orig")
    page.get_by_role("link", name="Clone run").click()
    seed = page.get_by_label("Seed", exact=True)
    wait_until(lambda: seed.input_value() == "11", message="cloned seed")
    assert page.get_by_label("Model").input_value() == "sim-9"
    assert page.get_by_label("Concurrency").input_value() == "2"
    assert page.get_by_label("Limit").input_value() == "5"
    assert page.get_by_label("Labels (key=value, comma-separated)").input_value() == "team=evals"


def test_theme_toggle_names_the_current_theme(dashboard, server):
    page = dashboard.open()
    toggle = page.locator("#theme-toggle")
    assert toggle.get_attribute("aria-label") == "Colour theme: auto"
    toggle.click()
    assert toggle.get_attribute("aria-label") == "Colour theme: light"
