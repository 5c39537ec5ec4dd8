#!/usr/bin/env python3
"""Query speed of waggle, DuckDB and ClickHouse (chdb) on the same spans, and whether they agree.

Input: a data directory filled by `waggle-bench load` and the same spans exported with `waggle
export` to Parquet. The Parquet rows are loaded into native DuckDB and ClickHouse tables; the six
queries of the benchmark are written once as a Honeycomb query spec (for `waggle-bench query`, which
times waggle's engine in-process) and as SQL (timed here, in-process too). Every system runs each
query once to warm up, then --runs times; the table shows medians. Then the answers are compared:
counts exactly, percentiles within waggle's stated relative error (1/128, docs/QUERY.md), averages
to 1e-9. Prints a Markdown table.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import chdb
import chdb.session
import duckdb

from benchlib import ch_create, ch_insert, duckdb_load, log, spread, timed

# waggle's percentiles: exact nearest rank up to 2,048 values, then within this relative error.
PERCENTILE_ERROR = 1 / 128
HEATMAP_BUCKETS = 60
STATUS_500 = '"http.response.status_code" = 500'


@dataclass(frozen=True)
class Dialect:
    """What differs between DuckDB's SQL and ClickHouse's."""

    name: str
    quantile: Callable[[str, float], str]
    approx_quantile: Callable[[str, float], str]
    time_literal: Callable[[int], str]
    bucket: Callable[[int, int], str]
    log2: str


DUCKDB = Dialect(
    name="DuckDB",
    quantile=lambda column, q: f"quantile_disc({column}, {q})",
    approx_quantile=lambda column, q: f"approx_quantile({column}, {q})",
    time_literal=lambda seconds: f"to_timestamp({seconds})::TIMESTAMPTZ_NS",
    bucket=lambda start_ns, width_ns: f"(epoch_ns(timestamp) - {start_ns}) // {width_ns}",
    log2="log2",
)
CLICKHOUSE = Dialect(
    name="ClickHouse",
    quantile=lambda column, q: f"quantileExact({q})({column})",
    approx_quantile=lambda column, q: f"quantile({q})({column})",
    time_literal=lambda seconds: f"toDateTime64({seconds}, 9, 'UTC')",
    bucket=lambda start_ns, width_ns: f"intDiv(toUnixTimestamp64Nano(timestamp) - {start_ns}, {width_ns})",
    log2="log2",
)


@dataclass
class Setting:
    """What the queries are about, read from the data: the time range, a dataset, a trace."""

    start: int  # unix seconds, inclusive
    end: int  # unix seconds, exclusive
    dataset: str
    trace_id: str

    def where(self, dialect, *conditions):
        """The WHERE clause: the time range, then the given conditions."""
        terms = [f"timestamp >= {dialect.time_literal(self.start)}", f"timestamp < {dialect.time_literal(self.end)}"]
        return "WHERE " + " AND ".join(terms + list(conditions))

    def granularity(self):
        """Seconds per heatmap time bucket, for HEATMAP_BUCKETS buckets over the range."""
        return -(-(self.end - self.start) // HEATMAP_BUCKETS)

    def bucket_origin(self):
        """Where waggle's time buckets start: the range start rounded down to the granularity."""
        return self.start - self.start % self.granularity()


@dataclass
class BenchQuery:
    """One query of the benchmark: for waggle (a spec or a trace id), as SQL, and how to compare answers."""

    name: str
    waggle: dict
    sql: Callable[[Dialect], str]
    check: Callable[[dict, list], list]


def close(actual, expected, relative):
    """True when actual is within `relative` of expected (and both are numbers)."""
    if actual is None or expected is None:
        return actual is None and expected is None
    return abs(float(actual) - float(expected)) <= relative * abs(float(expected)) + 1e-12


def check_single(key, relative):
    """A check for a query with one result row holding `key`, compared within `relative`."""

    def check(result, rows):
        value = result["results"][0]["data"].get(key) if result["results"] else None
        if not close(value, rows[0][0], relative):
            return [f"{key}: waggle {value}, peer {rows[0][0]}"]
        return []

    return check


def check_heatmap(setting):
    """Events per time bucket: waggle's heatmap buckets summed against the peer's counts."""

    def check(result, rows):
        waggle_counts = {}
        for point in result["series"]:
            seconds = datetime.fromisoformat(point["time"].replace("Z", "+00:00")).timestamp()
            buckets = (point["data"].get("HEATMAP(duration_ms)") or {}).get("buckets", [])
            bucket = int(seconds - setting.bucket_origin()) // setting.granularity()
            waggle_counts[bucket] = waggle_counts.get(bucket, 0) + sum(cell["count"] for cell in buckets)
        peer_counts = {}
        for time_bucket, _, count in rows:
            peer_counts[int(time_bucket)] = peer_counts.get(int(time_bucket), 0) + int(count)
        problems = []
        for bucket in sorted(set(waggle_counts) | set(peer_counts)):
            if waggle_counts.get(bucket, 0) != peer_counts.get(bucket, 0):
                problems.append(
                    f"time bucket {bucket}: waggle {waggle_counts.get(bucket, 0)}, peer {peer_counts.get(bucket, 0)}"
                )
        return problems

    return check


def check_routes(result, rows):
    """COUNT exactly and P99 within the stated error, route by route (null included)."""
    waggle = {row["data"]["http.route"]: row["data"] for row in result["results"]}
    peer = {route: (int(count), p99) for route, count, p99 in rows}
    problems = []
    if set(waggle) != set(peer):
        problems.append(f"routes differ: waggle {sorted(map(str, waggle))}, peer {sorted(map(str, peer))}")
    for route in set(waggle) & set(peer):
        count, p99 = peer[route]
        if waggle[route]["COUNT"] != count:
            problems.append(f"{route}: COUNT waggle {waggle[route]['COUNT']}, peer {count}")
        if not close(waggle[route]["P99(duration_ms)"], p99, PERCENTILE_ERROR):
            problems.append(f"{route}: P99 waggle {waggle[route]['P99(duration_ms)']}, peer {p99}")
    return problems


def check_top_users(result, rows):
    """The same ten users in the same order, averages to 1e-9."""
    waggle = [(row["data"]["app.user_id"], row["data"]["AVG(duration_ms)"]) for row in result["results"]]
    problems = []
    if [user for user, _ in waggle] != [user for user, _ in rows]:
        problems.append(f"top users differ: waggle {[u for u, _ in waggle]}, peer {[u for u, _ in rows]}")
    for (user, average), (_, peer_average) in zip(waggle, rows):
        if not close(average, peer_average, 1e-9):
            problems.append(f"{user}: AVG waggle {average}, peer {peer_average}")
    return problems


def check_trace(result, rows):
    """The same span ids."""
    peer = sorted(row[0] for row in rows)
    if result["span_ids"] != peer:
        return [f"trace: waggle {len(result['span_ids'])} spans, peer {len(peer)}"]
    return []


def queries(setting):
    """The benchmark's queries, each as a waggle spec and as SQL."""
    range_spec = {"start_time": setting.start, "end_time": setting.end}
    granularity = setting.granularity()
    start_ns, width_ns = setting.bucket_origin() * 10**9, granularity * 10**9
    return [
        BenchQuery(
            "P99(duration_ms), all spans",
            {
                "dataset": "__all__",
                "spec": {"calculations": [{"op": "P99", "column": "duration_ms"}], **range_spec},
                "disable_series": True,
            },
            lambda d: f"SELECT {d.quantile('duration_ms', 0.99)} FROM spans {setting.where(d)}",
            check_single("P99(duration_ms)", PERCENTILE_ERROR),
        ),
        BenchQuery(
            f"HEATMAP(duration_ms), {HEATMAP_BUCKETS} time buckets",
            {
                "dataset": "__all__",
                "spec": {"calculations": [{"op": "HEATMAP", "column": "duration_ms"}], "granularity": granularity, **range_spec},
            },
            # 64 log-spaced duration buckets per power of two, as waggle's log-linear histogram.
            lambda d: (
                f"SELECT {d.bucket(start_ns, width_ns)} AS t, floor({d.log2}(duration_ms) * 64) AS b, count(*) "
                f"FROM spans {setting.where(d)} GROUP BY t, b"
            ),
            check_heatmap(setting),
        ),
        BenchQuery(
            f"COUNT, P99(duration_ms) by http.route, service.name = {setting.dataset}",
            {
                "dataset": setting.dataset,
                "spec": {
                    "calculations": [{"op": "COUNT"}, {"op": "P99", "column": "duration_ms"}],
                    "breakdowns": ["http.route"],
                    **range_spec,
                },
                "disable_series": True,
            },
            lambda d: (
                f'SELECT "http.route", count(*), {d.quantile("duration_ms", 0.99)} FROM spans '
                f"{setting.where(d, f'dataset = {sql_text(setting.dataset)}')} GROUP BY \"http.route\""
            ),
            check_routes,
        ),
        BenchQuery(
            "AVG(duration_ms) by app.user_id, top 10",
            {
                "dataset": "__all__",
                "spec": {
                    "calculations": [{"op": "AVG", "column": "duration_ms"}],
                    "breakdowns": ["app.user_id"],
                    "orders": [{"op": "AVG", "column": "duration_ms", "order": "descending"}],
                    "limit": 10,
                    **range_spec,
                },
                "disable_series": True,
            },
            lambda d: (
                f'SELECT "app.user_id", avg(duration_ms) AS a FROM spans {setting.where(d)} '
                f'GROUP BY "app.user_id" ORDER BY a DESC LIMIT 10'
            ),
            check_top_users,
        ),
        BenchQuery(
            "COUNT_DISTINCT(app.user_id), status 500",
            {
                "dataset": "__all__",
                "spec": {
                    "calculations": [{"op": "COUNT_DISTINCT", "column": "app.user_id"}],
                    "filters": [{"column": "http.response.status_code", "op": "=", "value": 500}],
                    **range_spec,
                },
                "disable_series": True,
            },
            lambda d: f'SELECT count(DISTINCT "app.user_id") FROM spans {setting.where(d, STATUS_500)}',
            check_single("COUNT_DISTINCT(app.user_id)", 0),
        ),
        BenchQuery(
            "one trace by id",
            {"trace_id": setting.trace_id},
            # Every column, as waggle's trace view carries every attribute; span ids first, to compare.
            lambda d: f'SELECT "trace.span_id", * FROM spans WHERE "trace.trace_id" = {sql_text(setting.trace_id)}',
            check_trace,
        ),
    ]


def approximate_p99(setting):
    """P99 over all spans with the peers' approximate functions (not in the table: context only)."""
    return lambda d: f"SELECT {d.approx_quantile('duration_ms', 0.99)} FROM spans {setting.where(d)}"


def sql_text(text):
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


# --- running ---------------------------------------------------------------------------------------


def time_runs(run, runs):
    """One warm-up call, then `runs` timed ones: (milliseconds of each, the last answer)."""
    answer = run()
    times = []
    for _ in range(runs):
        seconds, answer = timed(run)
        times.append(seconds * 1000)
    return times, answer


def run_waggle(bench, data_dir, bench_queries, runs, workdir, cache_bytes=None):
    """`waggle-bench query` on the data directory: its report (timings and answers). `cache_bytes` sets
    the store's cache of decoded columns (0: every run decodes its columns)."""
    path = os.path.join(workdir, "queries.json")
    with open(path, "w") as file:
        json.dump([{"name": query.name, **query.waggle} for query in bench_queries], file, indent=1)
    cache = [] if cache_bytes is None else ["--query-cache-bytes", str(cache_bytes)]
    output = subprocess.run(
        [bench, "query", "--data-dir", data_dir, "--queries", path, "--runs", str(runs), *cache],
        check=True, stdout=subprocess.PIPE,
    ).stdout
    return json.loads(output)


def run_duckdb(parquet, workdir, sqls, runs):
    """Loads DuckDB (a database file, trace id indexed), then times each SQL query."""
    con = duckdb.connect(os.path.join(workdir, "spans.duckdb"))
    load_seconds, _ = timed(lambda: (duckdb_load(con, parquet), con.execute("CHECKPOINT")))
    index_seconds, _ = timed(lambda: con.execute('CREATE INDEX spans_trace_id ON spans ("trace.trace_id")'))
    log(f"  DuckDB: loaded in {load_seconds:.1f} s, trace id index in {index_seconds:.1f} s")
    timings = []
    for sql in sqls:
        timings.append(time_runs(lambda: con.execute(sql).fetchall(), runs))
        log(f"  DuckDB: {statistics.median(timings[-1][0]):.1f} ms  {sql[:90]}")
    con.close()
    return {"load_seconds": load_seconds + index_seconds, "timings": timings}


def ch_rows(session, sql):
    """A ClickHouse query's rows, as lists of JSON values."""
    return json.loads(session.query(sql, "JSONCompact").bytes())["data"]


def run_clickhouse(parquet, workdir, sqls, runs):
    """Loads ClickHouse (MergeTree by dataset and time, a bloom filter index on trace ids, parts merged)."""
    session = chdb.session.Session(os.path.join(workdir, "ch"))
    try:
        def load():
            ch_create(session, parquet, empty=True)
            session.query('ALTER TABLE spans ADD INDEX trace_id_bloom "trace.trace_id" TYPE bloom_filter(0.001) GRANULARITY 1')
            ch_insert(session, parquet)
            session.query("OPTIMIZE TABLE spans FINAL")

        load_seconds, _ = timed(load)
        log(f"  ClickHouse: loaded in {load_seconds:.1f} s")
        timings = []
        for sql in sqls:
            timings.append(time_runs(lambda: ch_rows(session, sql), runs))
            log(f"  ClickHouse: {statistics.median(timings[-1][0]):.1f} ms  {sql[:90]}")
    finally:
        session.close()
    return {"load_seconds": load_seconds, "timings": timings}


# --- main ------------------------------------------------------------------------------------------


def read_setting(parquet, dataset):
    """The time range (whole seconds around every span), the dataset, and a trace from the middle."""
    con = duckdb.connect()
    first, last, count = con.execute(
        "SELECT min(epoch_ns(timestamp)), max(epoch_ns(timestamp)), count(*) FROM read_parquet(?)", [parquet]
    ).fetchone()
    (trace_id,) = con.execute(
        'SELECT "trace.trace_id" FROM read_parquet(?) WHERE "trace.parent_id" IS NULL LIMIT 1 OFFSET ?',
        [parquet, count // 20],
    ).fetchone()
    con.close()
    return Setting(start=first // 10**9, end=last // 10**9 + 1, dataset=dataset, trace_id=trace_id), count


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parquet", help="the spans, exported by `waggle export` from --data-dir")
    parser.add_argument("--data-dir", required=True, help="waggle's data directory (filled by `waggle-bench load`)")
    parser.add_argument("--waggle-bench", required=True, help="the waggle-bench binary")
    parser.add_argument("--load-json", help="`waggle-bench load` report, for the notes")
    parser.add_argument("--dataset", default="cruddur-backend", help="the dataset of the by-route query")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per query (after one warm-up)")
    parser.add_argument("--workdir", default=None, help="where the databases go (default: a temporary directory)")
    args = parser.parse_args()

    parquet = os.path.abspath(args.parquet)
    setting, rows = read_setting(parquet, args.dataset)
    log(f"{parquet}: {rows:,} spans, {setting.end - setting.start} s; duckdb {duckdb.__version__}, "
        f"chdb {chdb.__version__} (ClickHouse {chdb.engine_version})")
    bench_queries = queries(setting)
    workdir = tempfile.mkdtemp(prefix="compare-query-", dir=args.workdir)

    log("waggle-bench query")
    waggle = run_waggle(args.waggle_bench, args.data_dir, bench_queries, args.runs, workdir)
    log("waggle-bench query --query-cache-bytes 0")
    waggle["uncached"] = run_waggle(args.waggle_bench, args.data_dir, bench_queries, args.runs, workdir, 0)
    stored = waggle["store"]["head_rows"] + waggle["store"]["segment_rows"]
    if stored != rows:
        sys.exit(f"waggle-bench read {stored:,} rows from {args.data_dir} but the export holds {rows:,}: were waggle "
                 "and waggle-bench built from the same store code (segments it cannot read are skipped)?")
    sql = {dialect.name: [query.sql(dialect) for query in bench_queries] + [approximate_p99(setting)(dialect)]
           for dialect in (DUCKDB, CLICKHOUSE)}
    log("DuckDB")
    duck = run_duckdb(parquet, workdir, sql["DuckDB"], args.runs)
    log("ClickHouse")
    ch = run_clickhouse(parquet, workdir, sql["ClickHouse"], args.runs)
    load = json.load(open(args.load_json)) if args.load_json else None
    print_report(args, setting, rows, bench_queries, waggle, {"DuckDB": duck, "ClickHouse": ch}, load)


def print_report(args, setting, rows, bench_queries, waggle, peers, load):
    """The Markdown table, the agreement of the answers, and how it was measured."""
    store = waggle["store"]
    stored = store["head_rows"] + store["segment_rows"]
    print(f"\n{rows:,} spans over {setting.end - setting.start:,} s in every system; median of {args.runs} warm runs "
          f"(ms, min–max in brackets).\n")
    print("| query | waggle | DuckDB | ClickHouse | waggle ÷ best peer | waggle, cache off | ÷ best peer | answers agree |")
    print("|---|---|---|---|---|---|---|---|")
    disagreements = []
    for index, query in enumerate(bench_queries):
        report = waggle["queries"][index]
        agree = []
        for name, peer in peers.items():
            problems = query.check(report["result"], peer["timings"][index][1])
            problems += [f"cache off: {problem}" for problem in
                         query.check(waggle["uncached"]["queries"][index]["result"], peer["timings"][index][1])]
            agree.append(name if not problems else f"not {name}")
            disagreements += [f"{query.name} vs {name}: {problem}" for problem in problems]
        best = min(statistics.median(peer["timings"][index][0]) for peer in peers.values())
        uncached = waggle["uncached"]["queries"][index]
        cells = [spread(report["runs_ms"], "{:.1f}")] + [spread(peer["timings"][index][0], "{:.1f}") for peer in peers.values()]
        cells += [f"{report['median_ms'] / best:.2f}", spread(uncached["runs_ms"], "{:.1f}"), f"{uncached['median_ms'] / best:.2f}"]
        print(f"| {query.name} | " + " | ".join(cells) + f" | {', '.join(agree)} |")
    exact_p99 = peers["DuckDB"]["timings"][0][1][0][0]
    approx = {name: peer["timings"][-1] for name, peer in peers.items()}
    print("\nPeers' approximate P99 over all spans (not in the table): " + "; ".join(
        f"{name} {statistics.median(times):.1f} ms, {100 * (answer[0][0] - exact_p99) / exact_p99:+.2f}% off"
        for name, (times, answer) in approx.items()))
    print(f"\nAnswers: {'all agree' if not disagreements else f'{len(disagreements)} disagreement(s)'}.")
    for line in disagreements[:40]:
        print(f"- {line}")
    head_share = store["head_rows"] / max(stored, 1)
    loaded = (f"`waggle-bench load` sent them over OTLP/HTTP in {load['seconds']:.0f} s "
              f"({load['spans_per_second']:,.0f} spans/s); " if load else "")
    if store["head_rows"]:
        stopped = (f"waggle was then stopped without a final flush, so the rows since its last flush were replayed "
                   f"from the write-ahead log into the in-memory head: {store['head_rows']:,} of {stored:,} rows "
                   f"({100 * head_share:.1f}%) in the head, the rest in {store['segments']} segments.")
    else:
        stopped = f"waggle flushed its head before stopping: all {stored:,} rows in {store['segments']} segments."
    print(f"""
How each was measured:
- waggle: {loaded}{stopped} `waggle-bench query` opens the data directory read-only ({waggle['open_ms']:.0f} ms)
  and calls `waggle_query::run_query` (or `get_trace`) in-process, result serialized to JSON included. The
  store keeps decoded columns between queries (256 MiB by default): the warm runs read them from memory, as a
  console refreshing its charts would. "cache off" is a second `waggle-bench query` with
  `--query-cache-bytes 0`: every run decompresses and decodes its columns.
- DuckDB {duckdb.__version__}: database file, `CREATE TABLE spans AS SELECT * FROM read_parquet(...)`, CHECKPOINT,
  an ART index on `trace.trace_id` (load and index {peers['DuckDB']['load_seconds']:.0f} s); queried in-process,
  answers fetched into Python. Percentiles with `quantile_disc` (exact).
- ClickHouse {chdb.engine_version} via chdb {chdb.__version__}: MergeTree ORDER BY (dataset, timestamp), a
  bloom_filter(0.001) index on `trace.trace_id` (as the OpenTelemetry collector's ClickHouse exporter makes),
  parts merged with OPTIMIZE FINAL (load {peers['ClickHouse']['load_seconds']:.0f} s); answers fetched as JSONCompact.
  Percentiles with `quantileExact`.
- The heatmap in SQL: counts by time bucket and by floor(log2(duration_ms) * 64), the resolution of waggle's
  log-linear histogram; compared by events per time bucket.
- The by-route query filters on `dataset` in SQL (the ClickHouse sort key; it equals `service.name`), in waggle
  it names the dataset.""")


if __name__ == "__main__":
    main()
