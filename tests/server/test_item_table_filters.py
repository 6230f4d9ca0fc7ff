"""The items table's column filters: answer, expected, score, latency and token ranges,
retried items; bad values are 422 naming the parameter, an empty range matches nothing."""

from __future__ import annotations

import httpx
import pytest

from events import schema as ev
from tests.support.events import TS, append, run_history


@pytest.fixture(scope="module")
def table_url(module_server) -> str:
    """One run's table on one server for every test here: they only read it."""
    server = module_server
    events = run_history("run-cols", total=5, answers=(True, False, True, False), finish=None)
    for sequence in (1, 2, 3, 4):
        events.append(ev.ItemAnswered(
            run_id="run-cols", sequence=sequence, response_text="x", answer="AB"[sequence % 2],
            latency_ms=100.0 * sequence,
            usage=ev.Usage(prompt_tokens=10, completion_tokens=sequence), ts=TS))
        events.append(ev.ItemJudged(run_id="run-cols", sequence=sequence,
                                    correct=sequence % 2 == 1, expected="a", score=sequence / 4,
                                    ts=TS))
    events += [ev.ItemStarted(run_id="run-cols", sequence=5, prompt_text="Q5?", ts=TS),
               ev.ItemFaulted(run_id="run-cols", sequence=5, error="boom", ts=TS),
               ev.ItemStarted(run_id="run-cols", sequence=5, prompt_text="Q5?", ts=TS)]
    append(server.log_path, *events)
    server.settle()
    return f"{server.url}/api/runs/run-cols/table"


def sequences(url: str, **params: object) -> list[int]:
    answer = httpx.get(url, params=params)
    assert answer.status_code == 200, answer.text
    return [row["sequence"] for row in answer.json()["rows"]]


@pytest.mark.parametrize(("params", "expected"), [
    ({"answer": "b"}, [1, 3]),
    ({"answer": " b "}, [1, 3]),  # spaces around either side do not count
    ({"expected": "A"}, [1, 2, 3, 4]),
    ({"expected": "b"}, []),
    ({"scoreMin": 0.5}, [2, 3, 4]),
    ({"scoreMin": 0.5, "scoreMax": 0.75}, [2, 3]),
    ({"latencyMax": 250}, [1, 2]),
    ({"tokensMin": 13}, [3, 4]),
    ({"attemptsMin": 2}, [5]),
    ({"answer": "B", "latencyMin": 200}, [3]),
    ({"latencyMin": 500, "latencyMax": 100}, []),  # an empty range
])
def test_column_filters_narrow_the_table(table_url, params, expected):
    assert sequences(table_url, **params) == expected


@pytest.mark.parametrize("params", [
    {"scoreMin": "high"}, {"latencyMin": -1}, {"tokensMax": "nan"}, {"scoreMax": "inf"},
    {"attemptsMin": 0}, {"answer": ""}, {"answer": "x" * 201},
])
def test_a_bad_column_filter_is_a_422_naming_it(table_url, params):
    answer = httpx.get(table_url, params=params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"]["field"] in params
