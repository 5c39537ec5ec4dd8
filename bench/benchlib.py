"""Helpers shared by the benchmark scripts (compare_ingest.py, compare_query.py).

Both load the spans of a `waggle export` Parquet file into DuckDB and ClickHouse (chdb) the same
way, as a table named `spans`, and report medians of repeated measurements.
"""

import statistics
import sys
import time

# ClickHouse: sorted by dataset then time, as a span store would be (and waggle partitions).
CH_ENGINE = "ENGINE = MergeTree ORDER BY (dataset, timestamp)"


def log(message):
    """A progress line on stderr (stdout carries the results)."""
    print(message, file=sys.stderr, flush=True)


def spread(values, fmt="{:,.0f}"):
    """'median (min–max)' of repeated measurements."""
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def timed(run):
    """(seconds, result) of one call of run()."""
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def duckdb_load(con, parquet):
    """Creates the native DuckDB table `spans` from the Parquet file."""
    con.execute("CREATE TABLE spans AS SELECT * FROM read_parquet(?)", [parquet])


def ch_ints(session, sql):
    """The one CSV row of a ClickHouse query, as ints."""
    return [int(x) for x in session.query(sql, "CSV").bytes().decode().strip().split(",")]


def ch_create(session, parquet, settings="", empty=False):
    """Creates the MergeTree table `spans` with the Parquet file's columns, filled from it unless empty."""
    source = f"SELECT * FROM file('{parquet}', Parquet)"
    session.query(f"CREATE TABLE spans {CH_ENGINE} {settings} {'EMPTY ' if empty else ''}AS {source}")


def ch_insert(session, parquet):
    """Appends the Parquet file's rows to `spans`."""
    session.query(f"INSERT INTO spans SELECT * FROM file('{parquet}', Parquet)")
