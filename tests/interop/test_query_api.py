"""Honeycomb's query API and `waggle query` against a running waggle: queries and results, columns
and datasets, validation errors in Honeycomb's shape, saved queries kept across a restart, BubbleUp
and exemplars naming the slow user, the CLI's table and terminal heatmap."""

import subprocess

from conftest import waggle_bin
from support import (
    SERVER,
    assert_accepted,
    make_span,
    new_span_id,
    new_trace_id,
    now_ns,
    post_traces,
    traces_request,
)

MS = 1_000_000
USERS = ["alice", "bob", "carol"]  # carol is the slow one


def shop_spans() -> tuple[list, dict]:
    """60 server spans over the last minutes: carol's take 1 s, the others 10 ms; one in five fails."""
    start = now_ns() - 5 * 60 * 1_000_000_000
    spans, expected = [], {"count": 0, "errors": 0}
    for i in range(60):
        user = USERS[i % 3]
        duration = 1000 * MS if user == "carol" else 10 * MS
        status = 500 if i % 5 == 0 else 200
        t = start + i * 3_000_000_000
        spans.append(
            make_span(
                new_trace_id(),
                new_span_id(),
                f"GET /{'a' if i % 2 else 'b'}",
                start=t,
                end=t + duration,
                kind=SERVER,
                attributes={
                    "http.route": "/a" if i % 2 else "/b",
                    "app.user_id": user,
                    "http.response.status_code": status,
                },
            )
        )
        expected["count"] += 1
        expected["errors"] += status == 500
    return spans, expected


def load_shop(waggle) -> dict:
    spans, expected = shop_spans()
    assert_accepted(post_traces(waggle, traces_request(spans, "shop")))
    return expected


def post(waggle, path: str, body) -> "requests.Response":  # noqa: F821
    return waggle.session.post(f"{waggle.web}{path}", json=body, timeout=30)


def run(waggle, dataset: str, spec: dict) -> dict:
    created = post(waggle, f"/1/queries/{dataset}", spec)
    assert created.status_code == 200, created.text
    result = post(waggle, f"/1/query_results/{dataset}", {"query_id": created.json()["id"]})
    assert result.status_code == 201, result.text
    body = result.json()
    assert body["complete"] is True
    again = waggle.api(f"/1/query_results/{dataset}/{body['id']}")
    assert again.status_code == 200 and again.json()["data"] == body["data"]
    return body["data"]


def test_query_results_group_order_and_series(waggle):
    expected = load_shop(waggle)
    spec = {
        "calculations": [{"op": "COUNT"}, {"op": "P99", "column": "duration_ms"}],
        "breakdowns": ["app.user_id"],
        "orders": [{"op": "P99", "column": "duration_ms", "order": "descending"}],
        "time_range": 3600,
        "granularity": 60,
    }
    data = run(waggle, "shop", spec)
    rows = [row["data"] for row in data["results"]]
    assert rows[0]["app.user_id"] == "carol" and len(rows) == 3, rows
    assert sum(row["COUNT"] for row in rows) == expected["count"]
    assert rows[0]["P99(duration_ms)"] == 1000.0 and rows[1]["P99(duration_ms)"] == 10.0
    assert sum(point["data"]["COUNT"] for point in data["series"]) == expected["count"]
    assert all(point["time"].endswith("Z") for point in data["series"])

    # The same spec in the same dataset keeps its id; dataset names match case-insensitively.
    first = post(waggle, "/1/queries/shop", spec).json()["id"]
    assert post(waggle, "/1/queries/SHOP", spec).json()["id"] == first
    assert waggle.api(f"/1/queries/shop/{first}").json()["breakdowns"] == ["app.user_id"]

    errors = run(
        waggle,
        "__all__",
        {"calculations": [{"op": "COUNT"}], "filters": [{"column": "http.response.status_code", "op": ">=", "value": 500}]},
    )
    assert errors["results"][0]["data"]["COUNT"] == expected["errors"]


def test_invalid_specs_and_unknown_datasets_answer_in_honeycombs_shape(waggle):
    load_shop(waggle)
    bad = post(waggle, "/1/queries/shop", {"calculations": [{"op": "COUNT"}, {"op": "P99"}]})
    assert bad.status_code == 400, bad.text
    body = bad.json()
    assert body["status"] == 400 and "calculations[1]" in body["error"], body
    assert body["type_detail"][0]["field"].startswith("calculations[1]"), body
    unknown_op = post(waggle, "/1/queries/shop", {"filters": [{"column": "x", "op": "==", "value": 1}]})
    assert unknown_op.status_code == 400 and "filters[0].op" in unknown_op.json()["error"], unknown_op.text
    not_json = waggle.session.post(f"{waggle.web}/1/queries/shop", data=b"{", timeout=10)
    assert not_json.status_code == 400 and "error" in not_json.json()
    missing = post(waggle, "/1/queries/no-such-dataset", {})
    assert missing.status_code == 404 and "shop" in missing.json()["error"], missing.text
    assert post(waggle, "/1/query_results/shop", {"query_id": "nope"}).status_code == 404
    assert waggle.api("/1/query_results/shop/nope").status_code == 404


def test_columns_and_datasets_for_autocomplete(waggle):
    load_shop(waggle)
    columns = {column["key_name"]: column for column in waggle.api("/1/columns/shop").json()}
    assert columns["app.user_id"]["type"] == "string"
    assert columns["http.response.status_code"]["type"] == "integer"
    assert columns["duration_ms"]["type"] == "float"
    assert columns["app.user_id"]["last_written"].endswith("Z")
    one = waggle.api("/1/columns/shop", key_name="http.route")
    assert one.status_code == 200 and one.json()["key_name"] == "http.route"
    assert waggle.api("/1/columns/shop", key_name="nope").status_code == 404
    datasets = {dataset["name"]: dataset for dataset in waggle.api("/1/datasets").json()}
    assert datasets["shop"]["slug"] == "shop" and datasets["shop"]["last_written_at"].endswith("Z")
    assert waggle.api("/1/datasets/shop").json()["name"] == "shop"


def test_bubbleup_and_exemplars_name_the_slow_user(waggle):
    load_shop(waggle)
    query = {"calculations": [{"op": "HEATMAP", "column": "duration_ms"}], "time_range": 3600}
    bubble = post(waggle, "/api/bubbleup/shop", {"query": query, "selection": {"min": 500}})
    assert bubble.status_code == 200, bubble.text
    top = bubble.json()["columns"][0]
    assert top["column"] == "app.user_id", bubble.json()["columns"][:3]
    assert top["values"][0]["value"] == "carol" and top["values"][0]["selected_fraction"] == 1.0
    exemplars = post(waggle, "/api/exemplars/shop", {"query": query, "selection": {"min": 500}, "limit": 3})
    assert exemplars.status_code == 200, exemplars.text
    found = exemplars.json()["exemplars"]
    assert len(found) == 3 and all(example["duration_ms"] == 1000.0 for example in found)
    trace = waggle.trace(found[0]["trace_id"])
    assert trace["spans"][0]["attributes"]["app.user_id"] == "carol"


def cli(waggle, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(waggle_bin()), "query", "--url", waggle.web, *args], capture_output=True, text=True, timeout=60
    )


def test_cli_prints_tables_heatmaps_and_runs_saved_queries_after_a_restart(waggle):
    expected = load_shop(waggle)
    out = cli(
        waggle, "-d", "shop", "-c", "AVG(duration_ms)", "-c", "COUNT", "-b", "app.user_id",
        "--order", "AVG(duration_ms) desc", "--time-range", "1h", "--save", "slow-users",
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["app.user_id", "AVG(duration_ms)", "COUNT"], out.stdout
    assert lines[2].split()[0] == "carol" and lines[-1] == "3 rows", out.stdout
    assert "saved as" in out.stderr

    errors = cli(waggle, "-d", "shop", "-w", "http.response.status_code >= 500", "-c", "COUNT")
    assert errors.returncode == 0, errors.stderr
    assert errors.stdout.splitlines()[2].strip() == str(expected["errors"]), errors.stdout

    heatmap = cli(waggle, "-d", "shop", "-c", "HEATMAP(duration_ms)", "--time-range", "1h")
    assert heatmap.returncode == 0, heatmap.stderr
    assert heatmap.stdout.startswith("HEATMAP(duration_ms)") and "█" in heatmap.stdout, heatmap.stdout

    refused = cli(waggle, "-d", "shop", "-c", "P99")
    assert refused.returncode == 1 and "calculations[0]" in refused.stderr, refused.stderr

    waggle.restart()
    saved = cli(waggle, "--saved", "slow-users")
    assert saved.returncode == 0, saved.stderr
    assert saved.stdout.splitlines()[2].split()[0] == "carol", saved.stdout
    history = waggle.api("/api/query_history").json()["history"]
    assert len(history) >= 4 and history[0]["dataset"] == "shop"
    missing = cli(waggle, "--saved", "nope")
    assert missing.returncode == 1 and "no saved query" in missing.stderr, missing.stderr
