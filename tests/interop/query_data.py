"""Random spans and random query specs for the differential tests of the query engine.

- `random_spans`: seeded traces over several datasets, with string, int, float and bool attributes,
  a column of mixed types, missing values, spans on time-bucket edges, orphans and cross-dataset
  children (the test sends them out of order).
- `SpecMaker.spec()`: a Honeycomb query spec drawn from everything the engine takes, over the
  columns and values of the spans.

`query_oracle.py` answers the specs from DuckDB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from query_oracle import COMPARISONS, FILTER_OPS, MOMENTS, PERCENTILES, RATES, SECOND, tagged


ROUTES = ["/api/home", "/api/users/{id}", "/api/messages", "/api/search", "/health", "/api/activities/{uuid}"]
USERS = [f"user{number}" for number in range(40)]
TAGS = ["alpha", "alphabet", "beta", "gamma-ray", "ALPHA", "αβγ", "", "5"]
MIXED = ["5", "abc", "true", "1.5", 5, 7, -3, 5.0, 2.5, True, False]
NAMES = ["GET /api/home", "POST /api/messages", "SELECT users", "render", "cache.get"]

# Columns the random specs draw from ("app.nope" is never sent: a missing column).
NUMERIC_COLUMNS = ["duration_ms", "app.cost", "app.count", "http.response.status_code", "app.mixed",
                   "root.duration_ms", "app.nope", "app.tag"]
FILTER_COLUMNS = NUMERIC_COLUMNS + ["http.route", "app.user_id", "app.flag", "name", "service.name",
                                    "trace.parent_id", "root.http.route", "root.app.user_id", "root.app.flag"]
BREAKDOWN_COLUMNS = ["http.route", "app.user_id", "service.name", "app.mixed", "app.flag", "name",
                     "http.response.status_code", "root.http.route", "app.nope", "app.tag", "root.service.name"]

# Operators that suit each kind of value (strings suit all).
SUITED_OPS = {"s": FILTER_OPS, "b": ["=", "!=", "exists", "does-not-exist", "in", "not-in"],
              "i": ["=", "!=", ">", ">=", "<", "<=", "exists", "does-not-exist", "in", "not-in"]}
SUITED_OPS["f"] = SUITED_OPS["i"]


# --- data ------------------------------------------------------------------------------------------


@dataclass
class SpanRow:
    """One span as sent, and the columns the engine derives from it."""

    dataset: str
    trace_id: bytes
    span_id: bytes
    parent_id: bytes
    name: str
    start: int
    end: int
    attributes: dict

    def columns(self) -> dict:
        """The span's columns as a query sees them (derived ones included)."""
        found = {
            "name": self.name,
            "service.name": self.dataset,
            "duration_ms": (self.end - self.start) / 1e6,
            "trace.trace_id": self.trace_id.hex(),
            "trace.span_id": self.span_id.hex(),
        }
        if self.parent_id:
            found["trace.parent_id"] = self.parent_id.hex()
        found.update(self.attributes)
        return found


@dataclass
class Layout:
    """Where the data and the queries sit in time: the range [start, end) in unix seconds."""

    start: int
    end: int

    def range_spec(self) -> dict:
        return {"start_time": self.start, "end_time": self.end}


def new_id(rng, size):
    """A random non-zero id."""
    while True:
        value = rng.randbytes(size)
        if any(value):
            return value


def random_duration(rng):
    """Nanoseconds: log-normal around 20 ms, some zero."""
    if rng.random() < 0.03:
        return 0
    return int(rng.lognormvariate(math.log(20e6), 1.2))


def random_attributes(rng, root):
    """A span's own attributes, each sometimes missing."""
    attributes = {}
    if root:
        if rng.random() < 0.95:
            attributes["http.route"] = rng.choice(ROUTES)
        if rng.random() < 0.9:
            attributes["app.user_id"] = rng.choice(USERS)
        attributes["http.response.status_code"] = rng.choice([200, 200, 200, 201, 404, 500])
        if rng.random() < 0.7:
            attributes["app.flag"] = rng.random() < 0.4
    if rng.random() < 0.8:
        attributes["app.cost"] = rng.choice([0.0, round(rng.uniform(-50, 0), 3), round(rng.lognormvariate(2, 1.5), 4)])
    if rng.random() < 0.7:
        attributes["app.count"] = rng.randint(-5, 100)
    if rng.random() < 0.5:
        attributes["app.mixed"] = rng.choice(MIXED)
    if rng.random() < 0.6:
        attributes["app.tag"] = rng.choice(TAGS)
    return attributes


def edge_times(layout, granularity):
    """Start times on the edges: the range's first and last nanosecond and bucket boundaries."""
    start, end = layout.start * SECOND, layout.end * SECOND
    times = [start, start - 1, end, end - 1, start + 1]
    for boundary in range(start + granularity * SECOND, end, granularity * SECOND):
        times += [boundary, boundary - 1]
    return times


def random_spans(rng, datasets, layout, num_traces):
    """Traces of a root and 0-6 children in random datasets; 5% lose their root (orphans)."""
    spans = []
    edges = edge_times(layout, 300)
    for index in range(num_traces):
        trace_id, root_id = new_id(rng, 16), new_id(rng, 8)
        if index < len(edges):
            start = edges[index]
        else:
            start = rng.randrange((layout.start - 300) * SECOND, (layout.end + 300) * SECOND)
        duration = random_duration(rng)
        root = SpanRow(rng.choice(datasets), trace_id, root_id, b"", rng.choice(NAMES[:2]), start, start + duration,
                       random_attributes(rng, root=True))
        if index < len(edges) or rng.random() >= 0.05:
            spans.append(root)
        for _ in range(rng.randint(0, 6)):
            child_start = start + rng.randint(0, max(duration, 1))
            spans.append(SpanRow(rng.choice(datasets), trace_id, new_id(rng, 8), root_id, rng.choice(NAMES[2:]),
                                 child_start, child_start + random_duration(rng), random_attributes(rng, root=False)))
    return spans


# --- random specs ----------------------------------------------------------------------------------


class SpecMaker:
    """Random query specs over the data's columns and values."""

    def __init__(self, rng, spans, datasets, layout):
        self.rng, self.datasets, self.layout = rng, datasets, layout
        self.values = {}
        for span in spans:
            for name, value in span.columns().items():
                self.values.setdefault(name, []).append(value)

    def value_of(self, column):
        """A value to filter on: one the column holds, or a literal of any type."""
        name = column[len("root."):] if column.startswith("root.") else column
        rng = self.rng
        if name in self.values and rng.random() < 0.7:
            value = rng.choice(self.values[name])
            if isinstance(value, str) and value and rng.random() < 0.3:
                value = value[: rng.randint(1, len(value))] if rng.random() < 0.5 else value[rng.randint(0, len(value) - 1):]
            if isinstance(value, float) and (abs(value) >= 1e15 or (value and abs(value) < 1e-3)):
                value = 1.5
            return value
        return rng.choice([5, 7, 0, -3, 100, 2.5, 5.0, 20.0, "5", "2.5", "true", "false", "abc", "/api", "user1",
                           True, False, "alpha", "", "1e2"])

    def filter(self):
        """A filter; mostly with an operator suited to the column's values, so that rows still match."""
        rng = self.rng
        column = rng.choice(FILTER_COLUMNS)
        op = rng.choice(FILTER_OPS)
        name = column[len("root."):] if column.startswith("root.") else column
        kinds = {tagged(value)[0] for value in self.values.get(name, [])}
        if rng.random() < 0.7 and kinds:
            op = rng.choice(SUITED_OPS[rng.choice(sorted(kinds))])
        found = {"column": column, "op": op}
        if op in ("in", "not-in"):
            found["value"] = [self.value_of(column) for _ in range(rng.randint(1, 4))]
        elif op in COMPARISONS or op.endswith("with") or "contain" in op:
            value = self.value_of(column)
            found["value"] = value if not isinstance(value, bool) else 5
        elif op not in ("exists", "does-not-exist"):
            found["value"] = self.value_of(column)
        return found

    def calculation(self):
        rng = self.rng
        op = rng.choice(["COUNT", "COUNT", "CONCURRENCY", "COUNT_DISTINCT", "HEATMAP", *MOMENTS, *MOMENTS,
                         *PERCENTILES, *RATES])
        if op in ("COUNT", "CONCURRENCY"):
            return {"op": op}
        if op == "COUNT_DISTINCT":
            return {"op": op, "column": rng.choice(FILTER_COLUMNS + ["trace.trace_id"])}
        return {"op": op, "column": rng.choice(NUMERIC_COLUMNS[:6] * 3 + NUMERIC_COLUMNS[6:])}

    def spec(self):
        """(dataset, spec)."""
        rng, layout = self.rng, self.layout
        calculations = []
        for _ in range(rng.randint(1, 3)):
            calculation = self.calculation()
            if calculation not in calculations:
                calculations.append(calculation)
        spec = {"calculations": calculations, **layout.range_spec()}
        if rng.random() < 0.3:
            spec["start_time"] = layout.start + rng.choice([0, 1, 59, 61, 600])
        filters = [self.filter() for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3]))]
        if filters:
            spec["filters"] = filters
            spec["filter_combination"] = rng.choice(["AND", "OR", "OR"])
        breakdowns = rng.sample(BREAKDOWN_COLUMNS, rng.choice([0, 1, 1, 2, 2]))
        if breakdowns:
            spec["breakdowns"] = breakdowns
        range_seconds = spec["end_time"] - spec["start_time"]
        choices = [60, 300, 1000, 450, range_seconds] + ([] if breakdowns else [7])
        spec["granularity"] = rng.choice(choices)
        if rng.random() < 0.2:
            # The same range as start (or end) and time_range.
            anchor = rng.choice(["start_time", "end_time"])
            spec["time_range"] = range_seconds
            del spec["end_time" if anchor == "start_time" else "start_time"]
        self.add_orders(spec)
        self.add_having(spec)
        if rng.random() < 0.4:
            spec["limit"] = rng.choice([1, 2, 3, 5, 10, 50])
        dataset = rng.choice(self.datasets + ["__all__", "__all__"])
        return dataset, spec

    def add_orders(self, spec):
        rng = self.rng
        orderable = [calc for calc in spec["calculations"] if calc["op"] != "HEATMAP"]
        orders = []
        for _ in range(rng.choice([0, 1, 1, 2])):
            direction = rng.choice(["ascending", "descending"])
            if spec.get("breakdowns") and rng.random() < 0.4:
                order = {"column": rng.choice(spec["breakdowns"]), "order": direction}
            elif orderable:
                order = {**rng.choice(orderable), "order": direction}
            else:
                continue
            if order not in orders:
                orders.append(order)
        if orders:
            spec["orders"] = orders

    def add_having(self, spec):
        rng = self.rng
        candidates = [calc for calc in spec["calculations"] if calc["op"] != "HEATMAP"]
        if not candidates or rng.random() < 0.75:
            return
        calc = rng.choice(candidates)
        having = {"calculate_op": calc["op"], "op": rng.choice(["=", "!=", ">", ">=", "<", "<="]),
                  "value": rng.choice([0, 1, 2, 5, 10, 20.5, 100, -1])}
        if calc.get("column"):
            having["column"] = calc["column"]
        spec["havings"] = [having]
