"""Forms: the new-run spec's config and labels, and the theme toggle's name."""

from __future__ import annotations


def test_new_run_rejects_bad_config_inline_and_sends_config_and_labels(dashboard, server):
    page = dashboard.open("#/new")
    page.locator("select[name=datasetName] option[value]:not([value=''])").first.wait_for(
        state="attached")
    page.get_by_label("Queue it instead").check()
    config = page.get_by_label("Config (JSON, optional)")
    config.fill("[1, 2]")
    page.get_by_role("button", name="Start run").click()
    assert "must be a JSON object" in page.locator("#config-error").inner_text()
    assert config.get_attribute("aria-invalid") == "true"

    config.fill('{"seed": 7}')
    page.get_by_label("Labels (key=value, comma-separated)").fill("team=evals, suite=nightly")
    with page.expect_response(lambda r: r.url.endswith("/api/queue")
                              and r.request.method == "POST") as sent:
        page.get_by_role("button", name="Start run").click()
    assert sent.value.ok, sent.value.text()
    spec = sent.value.request.post_data_json
    assert spec["config"] == {"seed": 7}
    assert spec["labels"] == {"team": "evals", "suite": "nightly"}
    assert page.locator("#config-error").inner_text() == ""


def test_theme_toggle_names_the_current_theme(dashboard, server):
    page = dashboard.open()
    toggle = page.locator("#theme-toggle")
    assert toggle.get_attribute("aria-label") == "Colour theme: auto"
    toggle.click()
    assert toggle.get_attribute("aria-label") == "Colour theme: light"
