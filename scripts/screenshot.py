"""Take the README's screenshots: ``python scripts/screenshot.py [OUT_DIR]``.

Starts the real server (``run.py --demo``) on a free loopback port over a fresh data
directory, appends a few simulated runs to its log itself (so the pictures do not
depend on the executor or on a model), waits until the board shows them streaming,
and writes into ``docs/`` (or OUT_DIR): ``board.png``; ``run.png``, a finished run's
page with its summary charts and an item's drawer open; ``compare.png``, two runs on
one dataset against each other; ``compare-phone.png``, the same on a phone. Needs
Playwright and ``/usr/bin/chromium``. Re-runnable: the runs are seeded, only their
timestamps change.
"""

from __future__ import annotations

import random
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import server_process  # noqa: E402
from events import schema as ev  # noqa: E402
from events.writer import append_events  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
PROMPTS = [
    "Which planet in the solar system has the shortest day?",
    "A train leaves at 3:40 pm and arrives at 6:15 pm. How long is the journey?",
    "Which enzyme unwinds the DNA double helix during replication?",
    "What is the derivative of x³ · sin(x)?",
    "Which treaty ended the Thirty Years' War?",
    "In Python, what does `list(range(2, 10, 3))` evaluate to?",
]
RESPONSE = ("Let me reason step by step. The options differ in one key respect, so I will "
            "eliminate the two that contradict the premise and compare the rest. ")
# (run id, model, dataset, provider, total, items already done, final status or None)
RUNS = [
    ("run-gpt41-mmlu", "gpt-4.1", "mmlu-pro", "openai", 120, 64, None),
    ("run-sim-arith", "sim-large", "arithmetic", "simulated", 200, 151, None),
    ("run-mini-gsm8k", "gpt-4.1-mini", "gsm8k", "openai", 80, 23, None),
    ("run-llama-arc", "llama-3.1-70b", "arc-challenge", "openai", 60, 60, "completed"),
    ("run-sim-trivia", "sim-small", "trivia", "simulated", 50, 31, "canceled"),
    ("run-qwen-mmlu", "qwen2.5-72b", "mmlu-pro", "openai", 120, 120, "completed"),
]


class SimulatedRun:
    """One seeded run: its history so far, then one item at a time while the script runs."""

    def __init__(self, spec: tuple, started: datetime) -> None:
        self.run_id, self.model, self.dataset, self.provider = spec[:4]
        self.total, self.done, self.final = spec[4:]
        self.random = random.Random(self.run_id)
        self.accuracy = self.random.uniform(0.55, 0.9)
        self.started = started
        self.sequence = 0

    def history(self) -> list[ev.Event]:
        start = self.started
        events: list[ev.Event] = [
            ev.RunCreated(run_id=self.run_id, provider_name=self.provider, model_name=self.model,
                          dataset_name=self.dataset, total=self.total, ts=start,
                          config={"temperature": 0, "maxTokens": 512},
                          labels={"suite": "nightly", "team": "evals"}),
            ev.RunStarted(run_id=self.run_id, ts=start),
        ]
        if self.run_id == "run-sim-arith":
            events.append(ev.RunResumed(run_id=self.run_id, ts=start + timedelta(minutes=2)))
        for _ in range(self.done):
            events += self.item(finish=True)
        if self.final:
            events.append(ev.RunFinished(run_id=self.run_id, status=self.final,
                                         ts=start + timedelta(minutes=4)))
        return events

    def item(self, *, finish: bool, now: datetime | None = None) -> list[ev.Event]:
        self.sequence += 1
        at = now or self.started
        seq, rid = self.sequence, self.run_id
        prompt = PROMPTS[seq % len(PROMPTS)]
        events: list[ev.Event] = [
            ev.ItemStarted(run_id=rid, sequence=seq, prompt_text=prompt, choices=tuple("ABCD"),
                           ts=at),
            ev.ItemDelta(run_id=rid, sequence=seq, text=RESPONSE, ts=at),
        ]
        if not finish:
            return events
        if self.random.random() < 0.04:
            return [*events,
                    ev.ItemFaulted(run_id=rid, sequence=seq, error="upstream timeout", ts=at)]
        correct = self.random.random() < self.accuracy
        answer = "B" if correct else "C"
        return [*events,
                ev.ItemAnswered(run_id=rid, sequence=seq, answer=answer,
                                response_text=RESPONSE + f"Answer: {answer}",
                                latency_ms=self.random.gauss(1100, 350),
                                usage=ev.Usage(prompt_tokens=self.random.randint(180, 420),
                                               completion_tokens=self.random.randint(40, 260)),
                                ts=at),
                ev.ItemJudged(run_id=rid, sequence=seq, correct=correct, expected="B",
                              score=round(self.random.betavariate(5, 2) if correct
                                          else self.random.betavariate(2, 5), 2),
                              judge="rubric-judge-v2",
                              rationale=("The response eliminates the options that contradict "
                                         f"the premise and settles on {answer}; the key is B."),
                              ts=at)]


def keep_streaming(log: Path, runs: list[SimulatedRun], stop: threading.Event) -> None:
    """Advance the running runs: finish the current item, start and stream the next."""
    live = [run for run in runs if not run.final]
    for run in live:
        append_events(log, run.item(finish=False, now=datetime.now(UTC)))
    while not stop.wait(0.4):
        for run in live:
            if run.sequence < run.total:
                run.sequence -= 1  # finish the item that is streaming, then start the next
                append_events(log, run.item(finish=True, now=datetime.now(UTC))
                              + run.item(finish=False, now=datetime.now(UTC)))


def shoot(page, url: str, out: Path) -> None:
    """The run page with its charts and a drawer, then compare at desktop and phone."""
    page.goto(f"{url}/#/runs/run-qwen-mmlu/items/7")
    page.wait_for_selector("#drawer-rationale")
    page.wait_for_selector("#chart-accuracy canvas")
    page.screenshot(path=str(out / "run.png"))
    page.goto(f"{url}/#/compare?ids=run-qwen-mmlu,run-gpt41-mmlu")
    page.wait_for_selector(".pairing details")
    page.locator(".pairing details").first.locator("summary").click()
    page.wait_for_selector(".side-by-side")
    page.screenshot(path=str(out / "compare.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(out / "compare-phone.png"))


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data_dir:
        log = Path(data_dir) / "runs.jsonl"
        # Prices for two of the models, so the run page shows what a run cost.
        (Path(data_dir) / "prices.json").write_text(
            '{"models": {"openai/qwen2.5-72b": {"inputPerMillion": 0.9, "outputPerMillion": 0.9},'
            ' "openai/gpt-4.1": {"inputPerMillion": 2.0, "outputPerMillion": 8.0}}}')
        now = datetime.now(UTC)
        runs = [SimulatedRun(spec, now - timedelta(minutes=6 - i)) for i, spec in enumerate(RUNS)]
        append_events(log, [event for run in runs for event in run.history()])
        stop = threading.Event()
        feeder = threading.Thread(target=keep_streaming, args=(log, runs, stop), daemon=True)
        with server_process(Path(data_dir), args=("--demo",)) as (url, _server), \
                sync_playwright() as playwright:
            feeder.start()
            try:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 860},
                                        color_scheme="dark")
                page.goto(url + "/")
                page.wait_for_selector("#connection[data-state=live]")
                page.wait_for_function(
                    f"document.querySelectorAll('.card').length >= {len(RUNS)}")
                page.wait_for_function(
                    "[...document.querySelectorAll('.card .preview')].some(p => p.textContent)")
                page.screenshot(path=str(out / "board.png"))
                shoot(page, url, out)
                browser.close()
            finally:
                stop.set()
    print(f"wrote board.png, run.png, compare.png and compare-phone.png into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
