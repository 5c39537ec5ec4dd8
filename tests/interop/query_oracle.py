"""DuckDB as the oracle of waggle's query engine (docs/QUERY.md, crates/waggle-query).

- `Oracle`: spans (from `query_data.py`) as rows of an in-memory DuckDB table. Each column is
  stored as four typed columns (`_s`, `_i`, `_f`, `_b`, at most one set per row), so that the SQL
  can follow waggle's typed cells and its filter coercion exactly; trace roots are joined for
  `root.` columns.
- `Oracle.expect(dataset, spec)`: the spec translated to SQL (filters, time range, breakdowns, time
  buckets, calculations); havings, orders and limit applied to its answer in Python.
- `compare(expected, actual)`: every difference between the expectation and waggle's answer, exact
  where the engine is exact and within its stated error where it is not.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone

import duckdb

SECOND = 1_000_000_000
# The engine's stated accuracy (crates/waggle-query/src/lib.rs, docs/QUERY.md).
EXACT_VALUES = 2048
EXACT_DISTINCT = 10_000
PERCENTILE_ERROR = 1 / 128
FLOAT_ERROR = 1e-9
# How far outside the query range the engine looks for trace roots.
ROOT_MARGIN_BEFORE = 3600 * SECOND
ROOT_MARGIN_AFTER = 600 * SECOND

PERCENTILES = {"P001": 0.001, "P01": 0.01, "P05": 0.05, "P10": 0.1, "P20": 0.2, "P25": 0.25, "P50": 0.5,
               "P75": 0.75, "P80": 0.8, "P90": 0.9, "P95": 0.95, "P99": 0.99, "P999": 0.999}
MOMENTS = ["SUM", "AVG", "MIN", "MAX"]
RATES = {"RATE_AVG": "AVG", "RATE_SUM": "SUM", "RATE_MAX": "MAX"}
FILTER_OPS = ["=", "!=", ">", ">=", "<", "<=", "starts-with", "does-not-start-with", "ends-with",
              "does-not-end-with", "exists", "does-not-exist", "contains", "does-not-contain", "in", "not-in"]
NEGATED = {"!=", "does-not-start-with", "does-not-end-with", "does-not-exist", "does-not-contain", "not-in"}
COMPARISONS = {">": ">", ">=": ">=", "<": "<", "<=": "<="}



# --- values ----------------------------------------------------------------------------------------


def tagged(value):
    """A value with its type, as the engine keeps it: ('n', None), ('b', ...), ('i', ...), ('f', ...), ('s', ...)."""
    if value is None:
        return ("n", None)
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int):
        return ("i", value)
    if isinstance(value, float):
        return ("f", 0.0 if value == 0 else value)
    return ("s", value)


TYPE_RANK = {"n": 0, "b": 1, "i": 2, "f": 2, "s": 3}


def key_order(a, b):
    """The engine's order of breakdown values: null, booleans, numbers, strings (-1, 0, 1)."""
    if TYPE_RANK[a[0]] != TYPE_RANK[b[0]]:
        return -1 if TYPE_RANK[a[0]] < TYPE_RANK[b[0]] else 1
    if a[0] == "n":
        return 0
    if a[0] == "s":
        left, right = a[1].encode(), b[1].encode()
    else:
        left, right = a[1], b[1]
    return (left > right) - (left < right)


def keys_order(a, b):
    """Group keys compared value by value."""
    for left, right in zip(a, b):
        ordering = key_order(left, right)
        if ordering:
            return ordering
    return 0


@dataclass
class Scalar:
    """A filter value in every type a cell may have (the engine's coercion, docs/QUERY.md)."""

    text: str
    is_string: bool
    int: int | None
    float: float | None
    boolean: bool | None

    @staticmethod
    def of(value) -> "Scalar":
        if isinstance(value, bool):
            return Scalar("true" if value else "false", False, None, None, value)
        if isinstance(value, int):
            return Scalar(str(value), False, value, float(value), None)
        if isinstance(value, float):
            return Scalar(json.dumps(value), False, None, value, None)
        as_int = parse_int(value.strip())
        as_float = parse_float(value.strip())
        boolean = {"true": True, "false": False}.get(value)
        return Scalar(value, True, as_int, as_float, boolean)


def parse_int(text):
    """Rust's i64 parse: optional sign, digits only."""
    body = text[1:] if text[:1] in "+-" else text
    if body.isascii() and body.isdigit():
        number = int(text)
        if -(2**63) <= number < 2**63:
            return number
    return None


def parse_float(text):
    """Rust's f64 parse for the plain forms the tests use; non-finite values are dropped."""
    try:
        number = float(text)
    except ValueError:
        return None
    if "_" in text or not math.isfinite(number) or text.strip() != text:
        return None
    return number


def sql_text(text):
    return "'" + text.replace("'", "''") + "'"


def sql_float(number):
    return f"CAST({json.dumps(number)} AS DOUBLE)"


# --- the oracle ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Typed:
    """The four typed SQL expressions of one column."""

    s: str
    i: str
    f: str
    b: str

    def number(self):
        return f"COALESCE(CAST({self.i} AS DOUBLE), {self.f})"

    def exists(self):
        return f"({self.s} IS NOT NULL OR {self.i} IS NOT NULL OR {self.f} IS NOT NULL OR {self.b} IS NOT NULL)"

    def distinct_text(self):
        """One text per distinct typed value (int 5, float 5.0 and string "5" differ)."""
        return (f"CASE WHEN {self.s} IS NOT NULL THEN 's' || {self.s} WHEN {self.i} IS NOT NULL THEN 'i' || "
                f"CAST({self.i} AS VARCHAR) WHEN {self.f} IS NOT NULL THEN 'f' || CAST({self.f} AS VARCHAR) "
                f"WHEN {self.b} IS NOT NULL THEN 'b' || CAST({self.b} AS VARCHAR) END")

    def parts(self):
        return [self.s, self.i, self.f, self.b]


NULL_TYPED = Typed("CAST(NULL AS VARCHAR)", "CAST(NULL AS BIGINT)", "CAST(NULL AS DOUBLE)", "CAST(NULL AS BOOLEAN)")


def numeric_sql(typed, op, scalar):
    """Int and float cells against a filter value: as an int when it is one, else as a float."""
    parts = []
    if scalar.int is not None:
        parts.append(f"{typed.i} {op} {scalar.int}")
    elif scalar.float is not None:
        parts.append(f"CAST({typed.i} AS DOUBLE) {op} {sql_float(scalar.float)}")
    if scalar.float is not None:
        parts.append(f"{typed.f} {op} {sql_float(scalar.float)}")
    return parts


def equals_sql(typed, scalar):
    """A cell equal to one filter value, under the engine's coercion."""
    parts = [f"{typed.s} = {sql_text(scalar.text)}", *numeric_sql(typed, "=", scalar)]
    if scalar.boolean is not None:
        parts.append(f"{typed.b} = {'TRUE' if scalar.boolean else 'FALSE'}")
    return " OR ".join(parts)


def compare_sql(typed, op, scalar):
    """An ordering comparison: strings bytewise (string values only), numbers as numbers, never booleans."""
    parts = [f"{typed.s} {op} {sql_text(scalar.text)}"] if scalar.is_string else []
    return " OR ".join(parts + numeric_sql(typed, op, scalar)) or "FALSE"


def filter_sql(typed, op, value):
    """One filter as SQL: the positive form, negated for the negated operators (absent cells included)."""
    positive_op = {"!=": "=", "does-not-start-with": "starts-with", "does-not-end-with": "ends-with",
                   "does-not-exist": "exists", "does-not-contain": "contains", "not-in": "in"}.get(op, op)
    if positive_op == "=":
        positive = equals_sql(typed, Scalar.of(value))
    elif positive_op == "in":
        positive = " OR ".join(f"({equals_sql(typed, Scalar.of(item))})" for item in value)
    elif positive_op in COMPARISONS:
        positive = compare_sql(typed, COMPARISONS[positive_op], Scalar.of(value))
    elif positive_op == "exists":
        positive = typed.exists()
    else:
        function = {"starts-with": "starts_with", "ends-with": "ends_with", "contains": "contains"}[positive_op]
        positive = f"{function}({typed.s}, {sql_text(Scalar.of(value).text)})"
    positive = f"COALESCE(({positive}), FALSE)"
    return f"NOT {positive}" if op in NEGATED else positive


@dataclass
class Expected:
    """One expected calculation value and how exactly it must match."""

    value: object
    kind: str  # count, exact, float, percentile, heatmap, rate
    tolerance: float = 0.0

    def number(self):
        """The value as havings and orders see it."""
        if self.kind == "heatmap" or self.value is None:
            return None
        return float(self.value)


class Oracle:
    """The spans in DuckDB, and specs answered from there."""

    def __init__(self, spans):
        self.columns = sorted({name for span in spans for name in span.columns()})
        self.index = {name: number for number, name in enumerate(self.columns)}
        self.con = duckdb.connect()
        self._load(spans)

    def _load(self, spans):
        """One row per span: dataset, time, end, trace, root flag, and four typed columns per column."""
        types = {"ds": "VARCHAR", "ts": "BIGINT", "te": "BIGINT", "trace": "VARCHAR", "is_root": "BOOLEAN"}
        for number in range(len(self.columns)):
            types.update({f"c{number}_s": "VARCHAR", f"c{number}_i": "BIGINT", f"c{number}_f": "DOUBLE",
                          f"c{number}_b": "BOOLEAN"})
        with tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False) as file:
            for span in spans:
                row = {"ds": span.dataset, "ts": span.start, "te": span.end, "trace": span.trace_id.hex(),
                       "is_root": not span.parent_id}
                for name, value in span.columns().items():
                    kind, plain = tagged(value)
                    row[f"c{self.index[name]}_{kind}"] = plain
                file.write(json.dumps(row) + "\n")
        try:
            columns = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in types.items()) + "}"
            self.con.execute(f"CREATE TABLE ev AS SELECT * FROM read_json('{file.name}', columns = {columns})")
        finally:
            os.unlink(file.name)
        self.con.execute("CREATE TABLE roots AS SELECT * FROM ev WHERE is_root")

    def typed(self, column):
        """The typed SQL of a column, a `root.` column (from the joined root) or a missing one."""
        table, name = ("r", column[len("root."):]) if column.startswith("root.") else ("e", column)
        if name not in self.index:
            return NULL_TYPED
        number = self.index[name]
        return Typed(*(f"{table}.c{number}_{kind}" for kind in "sifb"))

    def where(self, dataset, spec, start, end):
        """Dataset, time range and filters."""
        terms = [f"e.ts >= {start}", f"e.ts < {end}"]
        if dataset != "__all__":
            terms.append(f"e.ds = {sql_text(dataset)}")
        filters = [filter_sql(self.typed(f["column"]), f["op"], f.get("value")) for f in spec.get("filters", [])]
        if filters:
            joiner = " OR " if spec.get("filter_combination") == "OR" else " AND "
            terms.append("(" + joiner.join(filters) + ")")
        return " AND ".join(terms)

    def selected(self, dataset, spec, start, end, join=""):
        """The FROM and WHERE of every query: spans joined with their trace's root (and `join`), filtered."""
        return (f"FROM ev e LEFT JOIN roots r ON r.trace = e.trace AND r.ts >= {start - ROOT_MARGIN_BEFORE} "
                f"AND r.ts < {end + ROOT_MARGIN_AFTER} {join} WHERE {self.where(dataset, spec, start, end)}")

    def aggregates(self, calculations):
        """SQL aggregates per calculation; see `values_of`."""
        found = []
        for calc in calculations:
            op, typed = calc["op"], self.typed(calc.get("column", ""))
            if op == "COUNT":
                found.append("count(*)")
            elif op == "CONCURRENCY":
                found.append("count(*)")  # computed separately (needs the bucket widths)
            elif op == "COUNT_DISTINCT":
                found.append(f"count(DISTINCT {typed.distinct_text()})")
            elif op in PERCENTILES:
                number = typed.number()
                found.append(f"list_sort(list({number}) FILTER (WHERE {number} IS NOT NULL))"
                             f"[greatest(1, ceil(CAST({PERCENTILES[op]} AS DOUBLE) * count({number})))::BIGINT]")
                found.append(f"count({number})")
            elif op == "HEATMAP":
                found.append(f"list({typed.number()}) FILTER (WHERE {typed.number()} IS NOT NULL)")
            else:
                found += [f"count({typed.i})", f"sum({typed.i})", f"count({typed.f})", f"fsum({typed.f})",
                          f"min({typed.i})", f"min({typed.f})", f"max({typed.i})", f"max({typed.f})"]
        return found

    def group_columns(self, spec):
        return [part for column in spec.get("breakdowns", []) for part in self.typed(column).parts()]

    def query(self, dataset, spec, start, end, bucket_width=None):
        """Rows of (group key parts..., [bucket,] aggregates...)."""
        groups = self.group_columns(spec)
        bucket = [f"(e.ts - {start}) // {bucket_width}"] if bucket_width else []
        select = groups + bucket + self.aggregates(calculations_of(spec))
        group_by = groups + bucket
        sql = f"SELECT {', '.join(select)} {self.selected(dataset, spec, start, end)}"
        if group_by:
            sql += f" GROUP BY {', '.join(group_by)}"
        return self.con.execute(sql).fetchall()

    def overlap(self, dataset, spec, start, end, width):
        """CONCURRENCY's numerator: span time (clipped at the range end) per group and bucket."""
        groups = self.group_columns(spec)
        num_buckets = -(-(end - start) // width)
        buckets = (f"(SELECT b, {start} + b * {width} AS bs, least({start} + (b + 1) * {width}, {end}) AS be "
                   f"FROM range({num_buckets}) t(b)) k")
        covered = f"least(least(e.te, {end}), k.be) - greatest(e.ts, k.bs)"
        sql = (f"SELECT {', '.join(groups + ['k.b', f'sum({covered})'])} "
               f"{self.selected(dataset, spec, start, end, f'JOIN {buckets} ON {covered} > 0')} "
               f"GROUP BY {', '.join(groups + ['k.b'])}")
        return self.con.execute(sql).fetchall()

    def expect(self, dataset, spec, now_seconds):
        """What waggle must answer: totals per group and the series, before havings, orders and limit."""
        start, end = time_bounds(spec, now_seconds)
        width = granularity_of(spec, (end - start) // SECOND) * SECOND
        start -= start % width  # buckets on multiples of the granularity, the first one whole
        num_buckets = -(-(end - start) // width)
        num_groups = len(spec.get("breakdowns", [])) * 4
        calculations = calculations_of(spec)
        totals = {}
        for row in self.query(dataset, spec, start, end):
            totals[group_key(row[:num_groups])] = values_of(calculations, row[num_groups:])
        if not spec.get("breakdowns") and not totals:
            totals[()] = values_of(calculations, None)
        cells = {}
        for row in self.query(dataset, spec, start, end, width):
            cells[(group_key(row[:num_groups]), row[num_groups])] = values_of(calculations, row[num_groups + 1:])
        concurrency = {}
        if any(calc["op"] == "CONCURRENCY" for calc in calculations):
            for row in self.overlap(dataset, spec, start, end, width):
                concurrency[(group_key(row[:num_groups]), row[num_groups])] = float(row[num_groups + 1])
        return Expectation(spec, start, end, width, num_buckets, calculations, totals, cells, concurrency)


def calculations_of(spec):
    return spec.get("calculations") or [{"op": "COUNT"}]


def calc_key(calc):
    return f"{calc['op']}({calc['column']})" if calc.get("column") else calc["op"]


def group_key(parts):
    """A group's key from its typed columns, four per breakdown."""
    key = []
    for index in range(0, len(parts), 4):
        text, integer, number, boolean = parts[index:index + 4]
        value = next((v for v in (text, integer, number, boolean) if v is not None), None)
        key.append(tagged(value))
    return tuple(key)


def values_of(calculations, row):
    """Expected values of one cell from its aggregates (`row` None: a cell without events)."""
    values = {}
    position = 0
    for calc in calculations:
        op, key = calc["op"], calc_key(calc)
        if op in ("COUNT", "COUNT_DISTINCT"):
            values[key] = Expected(row[position] if row else 0, "count")
            position += 1
        elif op == "CONCURRENCY":
            values[key] = Expected(0.0, "float", FLOAT_ERROR)  # filled in by Expectation
            position += 1
        elif op in PERCENTILES:
            value, count = row[position:position + 2] if row else (None, 0)
            exact = count <= EXACT_VALUES or max(1, math.ceil(PERCENTILES[op] * count)) in (1, count)
            values[key] = Expected(value, "percentile", 0.0 if exact else PERCENTILE_ERROR)
            position += 2
        elif op == "HEATMAP":
            values[key] = Expected(sorted(row[position] or []) if row else [], "heatmap")
            position += 1
        else:
            moments = row[position:position + 8] if row else (0, None, 0, None, None, None, None, None)
            values[key] = moment_value(RATES.get(op, op), moments)
            if op in RATES:
                values[key] = Expected(values[key].number(), "rate-base")
            position += 8
    return values


def moment_value(op, moments):
    """SUM, AVG, MIN or MAX from counts, sums and extremes of the int and float cells."""
    int_count, int_sum, float_count, float_sum, int_min, float_min, int_max, float_max = moments
    count = int_count + float_count
    if count == 0:
        return Expected(None, "exact")
    if float_count == 0 and -(2**63) <= int(int_sum) < 2**63:
        total = Expected(int(int_sum), "exact")
    else:
        total = Expected(float(int_sum or 0) + float(float_sum or 0), "float", FLOAT_ERROR)
    if op == "SUM":
        return total
    if op == "AVG":
        return Expected(float(total.value) / count, "float", FLOAT_ERROR)
    candidates = [value for value in ((int_min, float_min) if op == "MIN" else (int_max, float_max)) if value is not None]
    chosen = min(candidates) if op == "MIN" else max(candidates)
    # An int and a float of the same value: either may be kept (the first met).
    tied = len(candidates) == 2 and candidates[0] == candidates[1]
    return Expected(chosen, "number" if tied else "exact")


def time_bounds(spec, now_seconds):
    """[start, end) in ns, as the engine resolves start_time, end_time and time_range."""
    range_ns = spec.get("time_range", 7200) * SECOND
    start, end = spec.get("start_time"), spec.get("end_time")
    if start is not None and end is not None:
        return start * SECOND, end * SECOND
    if start is not None:
        return start * SECOND, start * SECOND + range_ns
    if end is not None:
        return end * SECOND - range_ns, end * SECOND
    return (now_seconds + 1) * SECOND - range_ns, (now_seconds + 1) * SECOND


def granularity_of(spec, range_seconds):
    """The given granularity, or the engine's default: the smallest round step giving at most 200 buckets."""
    if spec.get("granularity"):
        return spec["granularity"]
    steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400]
    step = next((step for step in steps if -(-range_seconds // step) <= 200), None)
    if step is None:
        step = -(-range_seconds // (200 * 86400)) * 86400
    minimum = max(-(-range_seconds // 1000), 1)
    return min(max(step, minimum), max(range_seconds, 1))


@dataclass
class Expectation:
    """The oracle's answer to one spec, before havings, orders and limit."""

    spec: dict
    start: int
    end: int
    width: int
    num_buckets: int
    calculations: list
    totals: dict
    cells: dict
    concurrency: dict = field(default_factory=dict)

    def __post_init__(self):
        self._fill_concurrency()
        self._fill_rates()

    def bucket_width(self, bucket):
        return min(self.end - (self.start + bucket * self.width), self.width)

    def _fill_concurrency(self):
        for calc in self.calculations:
            if calc["op"] != "CONCURRENCY":
                continue
            for key, values in self.totals.items():
                overlap = sum(value for (group, _), value in self.concurrency.items() if group == key)
                values["CONCURRENCY"] = Expected(overlap / (self.end - self.start), "float", FLOAT_ERROR)
            for (key, bucket), values in self.cells.items():
                overlap = self.concurrency.get((key, bucket), 0.0)
                values["CONCURRENCY"] = Expected(overlap / self.bucket_width(bucket), "float", FLOAT_ERROR)

    def cell(self, key, bucket):
        """The expected values of one group's bucket (an empty cell when it has no events)."""
        if (key, bucket) in self.cells:
            return self.cells[(key, bucket)]
        values = values_of(self.calculations, None)
        for calc in self.calculations:
            if calc["op"] == "CONCURRENCY":
                overlap = self.concurrency.get((key, bucket), 0.0)
                values["CONCURRENCY"] = Expected(overlap / self.bucket_width(bucket), "float", FLOAT_ERROR)
            if calc["op"] in RATES:
                values[calc_key(calc)] = Expected(None, "rate-base")
        return values

    def _fill_rates(self):
        """RATE_*: per bucket the change of the base from the previous bucket; the total is their mean."""
        self.rates = {}
        for calc in self.calculations:
            if calc["op"] not in RATES:
                continue
            key = calc_key(calc)
            for group in self.totals:
                bases = [self.cell(group, bucket)[key].value for bucket in range(self.num_buckets)]
                rates = [None] + [b - a if a is not None and b is not None else None for a, b in zip(bases, bases[1:])]
                scale = sum(abs(base) for base in bases if base is not None) + 1.0
                for bucket, rate in enumerate(rates):
                    self.rates[(group, bucket, key)] = Expected(rate, "rate", FLOAT_ERROR * scale)
                defined = [rate for rate in rates if rate is not None]
                total = sum(defined) / len(defined) if defined else None
                self.totals[group][key] = Expected(total, "rate", FLOAT_ERROR * scale)

    def series_values(self, key, bucket):
        """Expected values of a series point."""
        values = dict(self.cell(key, bucket))
        for calc in self.calculations:
            if calc["op"] in RATES:
                values[calc_key(calc)] = self.rates[(key, bucket, calc_key(calc))]
        return values


# --- comparing ------------------------------------------------------------------------------------


def close(expected: Expected, actual):
    """True when waggle's value matches the expectation."""
    if expected.kind == "heatmap":
        return not heatmap_problems(expected.value, actual)
    if expected.value is None or actual is None:
        return expected.value is None and actual is None
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        return False
    if expected.kind == "count":
        return isinstance(actual, int) and actual == expected.value
    if expected.kind == "exact":
        return type(actual) is type(expected.value) and actual == expected.value
    if expected.kind == "number":
        return float(actual) == float(expected.value)
    allowed = expected.tolerance * abs(float(expected.value)) + (1e-12 if expected.tolerance else 0.0)
    if expected.kind == "rate":
        allowed = expected.tolerance
    return abs(float(actual) - float(expected.value)) <= allowed


def heatmap_problems(values, actual):
    """Problems of a HEATMAP value: every value counted once, in a bucket that holds it."""
    if not isinstance(actual, dict) or not isinstance(actual.get("buckets"), list):
        return [f"not a heatmap: {actual!r}"]
    buckets = actual["buckets"]
    total = sum(bucket["count"] for bucket in buckets)
    if total != len(values):
        return [f"heatmap counts {total} values, expected {len(values)}"]
    problems = []
    for bucket in buckets:
        low, high = sorted((bucket["lower"], bucket["upper"]))
        inside = sum(1 for value in values if low <= value <= high)
        if inside < bucket["count"]:
            problems.append(f"heatmap bucket [{low}, {high}] counts {bucket['count']}, only {inside} values lie in it")
    return problems


def having_state(expectation, values):
    """'pass', 'fail' or 'borderline' (an approximate value too near a threshold to tell)."""
    state = "pass"
    for having in expectation.spec.get("havings", []):
        key = calc_key({"op": having["calculate_op"], "column": having.get("column")})
        expected = values[key]
        number, threshold = expected.number(), float(having["value"])
        if number is None:
            return "fail"
        margin = expected.tolerance * abs(number) + (1e-12 if expected.tolerance else 0.0)
        if expected.kind == "rate":
            margin = expected.tolerance
        holds = having_holds(having["op"], number, threshold)
        if margin and abs(number - threshold) <= margin:
            state = "borderline"
        elif not holds:
            return "fail"
    return state


def having_holds(op, number, threshold):
    return {"=": number == threshold, "!=": number != threshold, ">": number > threshold,
            ">=": number >= threshold, "<": number < threshold, "<=": number <= threshold}[op]


def order_terms(spec):
    """(kind, index or key, descending) terms; without orders, the first plain calculation descending."""
    terms = []
    for order in spec.get("orders", []):
        descending = order.get("order") == "descending"
        if order.get("op"):
            terms.append(("calc", calc_key(order), descending))
        else:
            terms.append(("breakdown", spec["breakdowns"].index(order["column"]), descending))
    if not spec.get("orders"):
        first = next((calc for calc in calculations_of(spec) if calc["op"] != "HEATMAP" and calc["op"] not in RATES), None)
        if first:
            terms.append(("calc", calc_key(first), True))
    return terms


def compare_numbers(a, b, descending, tolerance=0.0):
    """The engine's number order (values missing last), or None when a and b are within tolerance."""
    if a is None or b is None:
        return 0 if a is None and b is None else (1 if a is None else -1)
    if abs(a - b) <= tolerance and (tolerance or a == b):
        return 0 if a == b and not tolerance else None
    ordering = (a > b) - (a < b)
    return -ordering if descending else ordering


def order_between(terms, key_a, values_a, key_b, values_b, tolerant):
    """-1 when a comes first, 1 when b does, None when approximate values leave it open."""
    for kind, target, descending in terms:
        if kind == "breakdown":
            ordering = key_order(key_a[target], key_b[target])
            ordering = -ordering if descending else ordering
        else:
            expected_a, expected_b = values_a[target], values_b[target]
            tolerance = 0.0
            if tolerant:
                number = max(abs(expected_a.number() or 0), abs(expected_b.number() or 0))
                tolerance = 2 * max(expected_a.tolerance, expected_b.tolerance) * number
                if "rate" in (expected_a.kind, expected_b.kind):
                    tolerance = 2 * max(expected_a.tolerance, expected_b.tolerance)
            ordering = compare_numbers(expected_a.number(), expected_b.number(), descending, tolerance)
            if ordering is None:
                return None
        if ordering:
            return ordering
    return keys_order(key_a, key_b)


def actual_values(row, calculations):
    """waggle's values of a result row as Expected objects (exact), for ordering checks."""
    return {calc_key(calc): Expected(row.get(calc_key(calc)), "float") for calc in calculations}


def actual_key(spec, data):
    return tuple(tagged(data.get(column)) for column in spec.get("breakdowns", []))


def compare(expectation, actual):
    """Every difference between the oracle's expectation and waggle's `data` ({series, results})."""
    spec = expectation.spec
    limit = spec.get("limit", 100)
    results = actual.get("results", [])
    groups = {key: values for key, values in expectation.totals.items()}
    states = {key: having_state(expectation, values) for key, values in groups.items()}
    problems = []
    seen = []
    for position, row in enumerate(results):
        data = row.get("data", {})
        key = actual_key(spec, data)
        seen.append(key)
        if key not in groups:
            problems.append(f"results[{position}]: group {key} has no events in the oracle")
            continue
        if states[key] == "fail":
            problems.append(f"results[{position}]: group {key} fails the havings")
        for name, expected in groups[key].items():
            if not close(expected, data.get(name)):
                problems.append(f"results[{position}] {key} {name}: expected {describe(expected)}, got {data.get(name)!r}")
    if len(set(seen)) != len(seen):
        problems.append("results: a group appears twice")
    problems += order_problems(expectation, results, seen, states, limit)
    problems += series_problems(expectation, actual.get("series", []), seen)
    return problems


def order_problems(expectation, results, seen, states, limit):
    """Results sorted as the orders say (by waggle's own values), and no better group left out."""
    spec, terms = expectation.spec, order_terms(expectation.spec)
    problems = []
    calculations = expectation.calculations
    for position in range(1, len(results)):
        a, b = results[position - 1]["data"], results[position]["data"]
        ordering = order_between(terms, seen[position - 1], actual_values(a, calculations),
                                 seen[position], actual_values(b, calculations), tolerant=False)
        if ordering == 1:
            problems.append(f"results[{position - 1}] and [{position}] are out of order")
    passing = [key for key, state in states.items() if state == "pass"]
    borderline = [key for key, state in states.items() if state == "borderline"]
    if len(results) > limit:
        problems.append(f"{len(results)} results, more than the limit {limit}")
    if len(results) < min(limit, len(passing)):
        problems.append(f"{len(results)} results, expected at least {min(limit, len(passing))}")
    if len(results) > len(passing) + len(borderline):
        problems.append(f"{len(results)} results, expected at most {len(passing) + len(borderline)}")
    if results and len(results) == limit:
        last = seen[-1]
        for key in passing:
            if key in seen or last not in expectation.totals:
                continue
            ordering = order_between(terms, key, expectation.totals[key], last, expectation.totals[last], tolerant=True)
            if ordering == -1:
                problems.append(f"group {key} belongs before {last} but is missing")
    return problems


def series_problems(expectation, series, seen):
    """One point per bucket and kept group, buckets in time order, values as the oracle's cells."""
    problems = []
    expected_points = [(bucket, key) for bucket in range(expectation.num_buckets) for key in seen]
    if len(series) != len(expected_points):
        return [f"series has {len(series)} points, expected {len(expected_points)} "
                f"({expectation.num_buckets} buckets x {len(seen)} groups)"]
    for position, ((bucket, key), point) in enumerate(zip(expected_points, series)):
        time = rfc3339(expectation.start + bucket * expectation.width)
        if point.get("time") != time:
            problems.append(f"series[{position}].time: expected {time}, got {point.get('time')}")
        data = point.get("data", {})
        if actual_key(expectation.spec, data) != key:
            problems.append(f"series[{position}]: group {actual_key(expectation.spec, data)}, expected {key}")
            continue
        if key not in expectation.totals:
            continue
        for name, expected in expectation.series_values(key, bucket).items():
            if not close(expected, data.get(name)):
                problems.append(f"series[{position}] bucket {bucket} {key} {name}: expected "
                                f"{describe(expected)}, got {data.get(name)!r}")
        if len(problems) > 20:
            break
    return problems


def describe(expected):
    if expected.kind == "heatmap":
        return f"a heatmap of {len(expected.value)} values"
    if expected.tolerance:
        return f"{expected.value!r} (±{expected.tolerance:g}{' relative' if expected.kind != 'rate' else ''})"
    return repr(expected.value)


def rfc3339(unix_nano):
    """The engine's series times: RFC 3339 UTC, whole seconds unless there is a fraction."""
    seconds, nanos = divmod(unix_nano, SECOND)
    text = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        text += f".{nanos:09d}".rstrip("0")
    return text + "Z"

