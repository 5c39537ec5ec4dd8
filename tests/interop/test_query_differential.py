"""Differential tests of the query engine, DuckDB as the oracle (issue 3, "Tests").

Seeded random spans (several datasets; string, int, float and bool attributes; a column of mixed
types; missing values; spans on time-bucket edges; cross-dataset traces sent out of order, some
without their root) go to a real waggle over OTLP/HTTP and into an in-memory DuckDB table. Random
Honeycomb query specs run through waggle's Query Data API (`POST /1/queries`, then
`POST /1/query_results`) and, translated to SQL, on DuckDB; the answers must agree: counts, sums,
minima and maxima exactly (floats to 1e-9), percentiles exactly up to 2,048 values and within 1/128
beyond, heatmaps bucket by bucket, every series point, havings, orders and limits.

Reproduce a failure with the seed it prints: `WAGGLE_QUERY_SEED=<seed> pytest tests/interop/test_query_differential.py`.
`WAGGLE_QUERY_SPECS` sets how many random specs run (default 200).
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from dataclasses import dataclass

import pytest
import requests

from query_data import Layout, SpecMaker, random_spans
from query_oracle import Oracle, compare
from support import (
    CLIENT,
    SERVER,
    TEAM_HEADERS,
    assert_accepted,
    make_span,
    new_span_id,
    new_trace_id,
    post_traces,
    traces_request,
)

SEED = int(os.environ.get("WAGGLE_QUERY_SEED", random.randrange(1 << 32)))
NUM_SPECS = int(os.environ.get("WAGGLE_QUERY_SPECS", "200"))
NUM_TRACES = 1200
DATASETS = ["qdiff-api", "qdiff-web", "qdiff-db"]
SPANS_PER_REQUEST = 400


@dataclass
class World:
    """The running waggle, the spans it holds, and the oracle holding the same."""

    waggle: object
    spans: list
    oracle: Oracle
    layout: Layout
    now_seconds: int

    def check(self, dataset, spec):
        """Every difference between waggle's answer and the oracle's (a 4xx is one too)."""
        answer = query(self.waggle, dataset, spec)
        if isinstance(answer, str):
            return [answer]
        return compare(self.oracle.expect(dataset, spec, self.now_seconds), answer)

    def assert_agrees(self, dataset, spec):
        """Runs a spec on both and fails with the differences; returns waggle's answer."""
        problems = self.check(dataset, spec)
        assert not problems, failure_message(dataset, spec, problems)
        return query(self.waggle, dataset, spec)


def failure_message(dataset, spec, problems):
    shown = "\n  ".join(problems[:15])
    return f"dataset {dataset}, spec {json.dumps(spec)} (seed {SEED}):\n  {shown}"


def query(waggle, dataset, spec):
    """Creates the query and runs it through the Query Data API: `data` ({series, results}), or the error."""
    session = requests.Session()
    session.trust_env = False
    created = session.post(f"{waggle.web}/1/queries/{dataset}", json=spec, headers=TEAM_HEADERS, timeout=30)
    if created.status_code not in (200, 201):
        return f"POST /1/queries/{dataset}: HTTP {created.status_code} {created.text[:300]}"
    run = session.post(f"{waggle.web}/1/query_results/{dataset}", json={"query_id": created.json()["id"]},
                       headers=TEAM_HEADERS, timeout=60)
    if run.status_code != 201:
        return f"POST /1/query_results/{dataset}: HTTP {run.status_code} {run.text[:300]}"
    body = run.json()
    assert body.get("complete") is True, body
    return body["data"]


def send(waggle, spans, rng):
    """Sends the spans in a random order (children often before their root), grouped by dataset."""
    shuffled = list(spans)
    rng.shuffle(shuffled)
    for start in range(0, len(shuffled), SPANS_PER_REQUEST):
        by_dataset = {}
        for span in shuffled[start:start + SPANS_PER_REQUEST]:
            by_dataset.setdefault(span.dataset, []).append(
                make_span(span.trace_id, span.span_id, span.name, start=span.start, end=span.end,
                          parent=span.parent_id, kind=CLIENT if span.parent_id else SERVER,
                          attributes=span.attributes)
            )
        for dataset, batch in by_dataset.items():
            assert_accepted(post_traces(waggle, traces_request(batch, dataset)))


@pytest.fixture(scope="module")
def world(module_waggle_factory) -> World:
    """One waggle for the module, holding only this module's spans (so `__all__` means them)."""
    rng = random.Random(SEED)
    now_seconds = int(time.time())
    start = now_seconds // 60 * 60 - 4200
    layout = Layout(start=start, end=start + 3600)
    spans = random_spans(rng, DATASETS, layout, NUM_TRACES)
    waggle = module_waggle_factory()
    send(waggle, spans, rng)
    return World(waggle, spans, Oracle(spans), layout, now_seconds)


def test_random_specs_agree_with_duckdb(world):
    print(f"reproduce with WAGGLE_QUERY_SEED={SEED}")  # shown with any failure, errors included
    maker = SpecMaker(random.Random(SEED + 1), world.spans, DATASETS, world.layout)
    failures = []
    for _ in range(NUM_SPECS):
        dataset, spec = maker.spec()
        problems = world.check(dataset, spec)
        if problems:
            failures.append(failure_message(dataset, spec, problems))
    assert not failures, (
        f"{len(failures)} of {NUM_SPECS} random specs disagree with DuckDB; reproduce with "
        f"WAGGLE_QUERY_SEED={SEED}\n\n" + "\n\n".join(failures[:8])
    )


def test_every_filter_operator_on_every_kind_of_column(world):
    values = {"=": "alpha", "!=": 5, ">": 10, ">=": "5", "<": 2.5, "<=": "user3", "starts-with": "al",
              "does-not-start-with": "/api", "ends-with": "ha", "does-not-end-with": "5", "contains": "e",
              "does-not-contain": "a", "in": ["5", 5, True, "beta"], "not-in": [200, "x"]}
    columns = ["app.tag", "app.mixed", "app.count", "app.cost", "app.flag", "http.route", "app.nope",
               "root.app.user_id", "duration_ms"]
    for op in ["=", "!=", ">", ">=", "<", "<=", "starts-with", "does-not-start-with", "ends-with",
               "does-not-end-with", "exists", "does-not-exist", "contains", "does-not-contain", "in", "not-in"]:
        for column in columns:
            found = {"column": column, "op": op}
            if op in values:
                found["value"] = values[op]
            spec = {"calculations": [{"op": "COUNT"}], "filters": [found], **world.layout.range_spec(),
                    "granularity": 600}
            world.assert_agrees("__all__", spec)


def test_empty_results(world):
    """No events in the range: one group of zeros and nulls without breakdowns, nothing with them."""
    before = {"start_time": world.layout.start - 86400, "end_time": world.layout.start - 82800, "granularity": 600}
    calculations = [{"op": "COUNT"}, {"op": "P99", "column": "duration_ms"}, {"op": "SUM", "column": "app.count"},
                    {"op": "COUNT_DISTINCT", "column": "app.user_id"}, {"op": "HEATMAP", "column": "duration_ms"}]
    answer = world.assert_agrees("__all__", {"calculations": calculations, **before})
    assert answer["results"] == [{"data": {"COUNT": 0, "P99(duration_ms)": None, "SUM(app.count)": None,
                                           "COUNT_DISTINCT(app.user_id)": 0,
                                           "HEATMAP(duration_ms)": {"buckets": []}}}]
    aligned_start = before["start_time"] // 600 * 600  # buckets start on multiples of the granularity
    assert len(answer["series"]) == -(-(before["end_time"] - aligned_start) // 600)
    assert answer["series"][0]["time"].endswith("0:00Z")
    answer = world.assert_agrees(DATASETS[0], {"calculations": calculations, "breakdowns": ["http.route"], **before})
    assert answer == {"series": [], "results": []}
    nothing = {"column": "app.tag", "op": "=", "value": "no such tag"}
    world.assert_agrees(DATASETS[1], {"calculations": calculations, "filters": [nothing], **world.layout.range_spec()})


def test_missing_column(world):
    """A column no span has: no values to calculate, one null group, absent to every filter."""
    calculations = [{"op": "COUNT"}, {"op": "SUM", "column": "app.nope"}, {"op": "P50", "column": "app.nope"},
                    {"op": "COUNT_DISTINCT", "column": "app.nope"}, {"op": "HEATMAP", "column": "app.nope"},
                    {"op": "RATE_MAX", "column": "app.nope"}]
    answer = world.assert_agrees("__all__", {"calculations": calculations, "breakdowns": ["app.nope"],
                                             **world.layout.range_spec()})
    assert [row["data"]["app.nope"] for row in answer["results"]] == [None]
    for op in ["exists", "does-not-exist", "!=", "does-not-contain", "not-in", "="]:
        found = {"column": "app.nope", "op": op}
        if op not in ("exists", "does-not-exist"):
            found["value"] = [1] if op == "not-in" else "x"
        world.assert_agrees(DATASETS[2], {"calculations": [{"op": "COUNT"}], "filters": [found],
                                          **world.layout.range_spec()})


def test_time_bucket_edges(world):
    """Spans at the range's first and last nanosecond and on bucket boundaries land where they belong."""
    layout = world.layout
    for granularity in (300, 450, 1000, 3600, 7):
        world.assert_agrees("__all__", {"calculations": [{"op": "COUNT"}, {"op": "CONCURRENCY"}],
                                        "granularity": granularity, **layout.range_spec()})
    first = next(span for span in world.spans if span.start == layout.start * 1_000_000_000 and not span.parent_id)
    last = next(span for span in world.spans if span.start == layout.end * 1_000_000_000 and not span.parent_id)
    for span, count in ((first, 1), (last, 0)):
        spec = {"calculations": [{"op": "COUNT"}], **layout.range_spec(), "filters": [
            {"column": "trace.trace_id", "op": "=", "value": span.trace_id.hex()},
            {"column": "trace.parent_id", "op": "does-not-exist"}]}
        assert world.assert_agrees("__all__", spec)["results"][0]["data"]["COUNT"] == count


def test_root_columns(world):
    """Child spans grouped and filtered by their trace root's values, roots in other datasets, sent after them."""
    range_spec = world.layout.range_spec()
    world.assert_agrees("__all__", {
        "calculations": [{"op": "P99", "column": "duration_ms"}, {"op": "COUNT"}],
        "breakdowns": ["root.http.route"],
        "filters": [{"column": "trace.parent_id", "op": "exists"}], **range_spec})
    for dataset in DATASETS:
        world.assert_agrees(dataset, {
            "calculations": [{"op": "AVG", "column": "root.duration_ms"}, {"op": "MAX", "column": "duration_ms"}],
            "breakdowns": ["root.service.name", "name"],
            "filters": [{"column": "root.app.user_id", "op": "in", "value": ["user1", "user2", "user3"]},
                        {"column": "root.app.flag", "op": "=", "value": True}],
            "filter_combination": "OR", **range_spec})
    orphans = world.assert_agrees("__all__", {"calculations": [{"op": "COUNT"}], **range_spec, "filters": [
        {"column": "root.http.route", "op": "does-not-exist"}, {"column": "trace.parent_id", "op": "exists"}]})
    assert orphans["results"][0]["data"]["COUNT"] > 0, "the data should hold children without a root"


def test_mixed_type_column(world):
    """One column holding strings, ints, floats and booleans: coercion in filters, typed groups."""
    range_spec = world.layout.range_spec()
    for value in ["5", 5, 5.0, "5.0", True, "true", 2.5, "abc"]:
        for op in ["=", "!=", ">", "<=", "starts-with"]:
            if op in (">", "<=", "starts-with") and isinstance(value, bool):
                continue
            world.assert_agrees("__all__", {"calculations": [{"op": "COUNT"}, {"op": "SUM", "column": "app.mixed"}],
                                            "filters": [{"column": "app.mixed", "op": op, "value": value}],
                                            **range_spec})
    answer = world.assert_agrees("__all__", {
        "calculations": [{"op": "COUNT"}, {"op": "COUNT_DISTINCT", "column": "app.mixed"},
                         {"op": "MIN", "column": "app.mixed"}, {"op": "P50", "column": "app.mixed"}],
        "breakdowns": ["app.mixed"], "orders": [{"column": "app.mixed"}], **range_spec})
    shown = [row["data"]["app.mixed"] for row in answer["results"]]
    assert 5 in shown and "5" in shown and True in shown, shown


def send_weird_values(waggle):
    """Six spans in dataset `weird`: app.weird NaN, +inf, -inf, 1.0, 2.0 and absent."""
    now = time.time_ns()
    spans = []
    for index, value in enumerate([math.nan, math.inf, -math.inf, 1.0, 2.0, None]):
        attributes = {} if value is None else {"app.weird": value}
        spans.append(make_span(new_trace_id(), new_span_id(), "weird", start=now - (index + 1) * 10**9,
                               end=now - index * 10**9, attributes=attributes))
    assert_accepted(post_traces(waggle, traces_request(spans, "weird")))


def test_non_finite_values(waggle):
    """docs/QUERY.md: NaN is ignored, infinities count in SUM/MIN/MAX but not in percentiles or heatmaps."""
    send_weird_values(waggle)
    calculations = [{"op": op, "column": "app.weird"} for op in ["P50", "P99", "HEATMAP", "SUM", "MIN", "MAX"]]
    data = query(waggle, "weird", {"calculations": calculations, "time_range": 600})["results"][0]["data"]
    assert data["P50(app.weird)"] == 1.0 and data["P99(app.weird)"] == 2.0
    assert sum(bucket["count"] for bucket in data["HEATMAP(app.weird)"]["buckets"]) == 2
    # inf + -inf is NaN, -inf and inf have no JSON form: all shown as null.
    assert data["SUM(app.weird)"] is None and data["MIN(app.weird)"] is None and data["MAX(app.weird)"] is None
    above = {"calculations": [{"op": "COUNT"}], "filters": [{"column": "app.weird", "op": ">", "value": 0}],
             "time_range": 600}
    assert query(waggle, "weird", above)["results"][0]["data"]["COUNT"] == 3  # inf, 1, 2: never NaN


def test_non_finite_values_in_groups_and_distinct_counts(waggle):
    send_weird_values(waggle)
    distinct = {"calculations": [{"op": "COUNT_DISTINCT", "column": "app.weird"}], "time_range": 600}
    groups = {"calculations": [{"op": "COUNT"}], "breakdowns": ["app.weird"], "time_range": 600}
    counted = query(waggle, "weird", distinct)["results"][0]["data"]["COUNT_DISTINCT(app.weird)"]
    shown = [row["data"]["app.weird"] for row in query(waggle, "weird", groups)["results"]]
    assert counted == 4, f"COUNT_DISTINCT counts NaN: {counted}"  # "NaN is ignored everywhere"
    assert shown.count(None) == 1, f"several groups show as null: {shown}"
    assert "Infinity" in shown and "-Infinity" in shown, shown
