#!/usr/bin/env python3
"""Storage and small-batch ingest of waggle, DuckDB and ClickHouse (chdb) on the same rows.

Input: the spans of a `waggle-bench ingest` run, exported with `waggle export` to Parquet, and the
JSON report of `waggle-bench ingest` (its last run is the one whose data directory was exported). Every DuckDB and
ClickHouse measurement is repeated (--repeats, default 3) on fresh databases in a temporary
directory; the table shows medians, the lines before it every run. Prints a Markdown table.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

import chdb
import chdb.session
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from benchlib import ch_create, ch_ints, duckdb_load, log, spread


def percentile(sorted_values, quantile):
    """Nearest rank, as waggle-bench computes it."""
    return sorted_values[round((len(sorted_values) - 1) * quantile)]


def repeat(name, times, workdir, run):
    """Runs run(fresh_dir) `times` times, each in a new directory removed afterwards."""
    results = []
    for index in range(times):
        path = tempfile.mkdtemp(prefix=f"{name}-", dir=workdir)
        try:
            results.append(run(path))
        finally:
            shutil.rmtree(path)
        log(f"  {name} run {index + 1}: {results[-1]}")
    return results


def waggle_runs(path):
    with open(path) as file:
        report = json.load(file)
    return report.get("runs", [report])  # before --runs, waggle-bench printed one flat report


def file_bytes(directory):
    return sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(directory) for f in files)


def batch_result(rows, seconds, latencies):
    latencies = sorted(latencies)
    return {
        "rows": rows,
        "rows_per_s": round(rows / seconds),
        "p50_ms": round(percentile(latencies, 0.50), 3),
        "p99_ms": round(percentile(latencies, 0.99), 3),
    }


# --- DuckDB ---------------------------------------------------------------------------------------


def duckdb_bulk(parquet, rows):
    def run(path):
        started = time.perf_counter()
        con = duckdb.connect(os.path.join(path, "spans.duckdb"))
        duckdb_load(con, parquet)
        con.execute("CHECKPOINT")
        assert con.execute("SELECT count(*) FROM spans").fetchone()[0] == rows
        con.close()
        return {"seconds": round(time.perf_counter() - started, 2), "bytes": file_bytes(path)}

    return run


def duckdb_batches(parquet, slices):
    def run(path):
        con = duckdb.connect(os.path.join(path, "spans.duckdb"))
        con.execute("CREATE TABLE spans AS SELECT * FROM read_parquet(?) LIMIT 0", [parquet])
        latencies = []
        started = time.perf_counter()
        for piece in slices:  # autocommit: one transaction, one WAL commit (fdatasync) per batch
            sent = time.perf_counter()
            con.from_arrow(piece).insert_into("spans")
            latencies.append((time.perf_counter() - sent) * 1000)
        seconds = time.perf_counter() - started
        rows = con.execute("SELECT count(*) FROM spans").fetchone()[0]
        con.close()
        return batch_result(rows, seconds, latencies)

    return run


# --- ClickHouse (chdb) ----------------------------------------------------------------------------

PARTS = "SELECT sum(bytes_on_disk), count() FROM system.parts WHERE database = currentDatabase() AND table = 'spans' AND active"


def ch_bulk(parquet, rows, settings=""):
    def run(path):
        session = chdb.session.Session(os.path.join(path, "ch"))
        try:
            started = time.perf_counter()
            ch_create(session, parquet, settings)
            seconds = time.perf_counter() - started
            assert ch_ints(session, "SELECT count() FROM spans") == [rows]
            size, parts = ch_ints(session, PARTS)
        finally:
            session.close()
        return {"seconds": round(seconds, 2), "bytes": size, "parts": parts}

    return run


def ch_batches(parquet, bodies, fsync):
    def run(path):
        session = chdb.session.Session(os.path.join(path, "ch"))
        try:
            settings = f"SETTINGS fsync_after_insert = {fsync}, fsync_part_directory = {fsync}"
            ch_create(session, parquet, settings, empty=True)
            latencies = []
            started = time.perf_counter()
            for body in bodies:  # one synchronous INSERT (one new part) per batch
                sent = time.perf_counter()
                with session.send_insert("INSERT INTO spans SETTINGS async_insert = 0", "ArrowStream") as insert:
                    insert.append(body)
                    insert.finish()
                latencies.append((time.perf_counter() - sent) * 1000)
            seconds = time.perf_counter() - started
            (rows,) = ch_ints(session, "SELECT count() FROM spans")
        finally:
            session.close()
        return batch_result(rows, seconds, latencies)

    return run


def arrow_stream(piece):
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, piece.schema) as writer:
        writer.write_table(piece)
    return sink.getvalue().to_pybytes()


# --- main -----------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parquet", help="spans exported by `waggle export`")
    parser.add_argument("--waggle-json", required=True, help="`waggle-bench ingest` report; its last run was exported")
    parser.add_argument("--waggle-single-json", help="`waggle-bench ingest --connections 1` report")
    parser.add_argument("--rows", type=int, default=200_000, help="rows for the small-batch ingest")
    parser.add_argument("--batch", type=int, default=512, help="rows per small-batch transaction")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", default=None, help="where the databases go (default: a temporary directory)")
    args = parser.parse_args()

    parquet = os.path.abspath(args.parquet)
    waggle = waggle_runs(args.waggle_json)
    single = waggle_runs(args.waggle_single_json) if args.waggle_single_json else []
    rows = pq.ParquetFile(parquet).metadata.num_rows
    if rows != waggle[-1]["spans_acknowledged"]:
        sys.exit(f"{parquet} has {rows} rows but waggle acknowledged {waggle[-1]['spans_acknowledged']} spans")
    otlp = waggle[-1]["otlp_bytes_per_span"]
    distinct = duckdb.execute('SELECT count(DISTINCT "trace.span_id") FROM read_parquet(?)', [parquet]).fetchone()[0]
    log(f"{parquet}: {rows:,} rows, {distinct:,} distinct span ids; OTLP protobuf {otlp:.1f} B/span")
    log(f"duckdb {duckdb.__version__}, chdb {chdb.__version__} (ClickHouse {chdb.engine_version})")

    # The first --rows rows, as Arrow slices of --batch rows (DuckDB) and as ArrowStream bodies (ClickHouse).
    batches, taken = [], 0
    for record_batch in pq.ParquetFile(parquet).iter_batches(batch_size=65536):
        batches.append(record_batch.slice(0, args.rows - taken))
        taken += batches[-1].num_rows
        if taken >= args.rows:
            break
    first = pa.Table.from_batches(batches).combine_chunks()
    slices = [first.slice(start, args.batch) for start in range(0, first.num_rows, args.batch)]
    bodies = [arrow_stream(piece) for piece in slices]
    n = first.num_rows

    workdir = tempfile.mkdtemp(prefix="compare-ingest-", dir=args.workdir)
    r = args.repeats
    try:
        log("DuckDB bulk load + CHECKPOINT")
        duck_bulk = repeat("duckdb-bulk", r, workdir, duckdb_bulk(parquet, rows))
        log(f"DuckDB {len(slices)} transactions of {args.batch} rows")
        duck_small = repeat("duckdb-batches", r, workdir, duckdb_batches(parquet, slices))
        log("ClickHouse bulk load (CREATE ... AS SELECT FROM file())")
        ch_lz4 = repeat("ch-bulk", r, workdir, ch_bulk(parquet, rows))
        log("ClickHouse bulk load, default_compression_codec = 'ZSTD(1)'")
        ch_zstd = repeat("ch-bulk-zstd", r, workdir, ch_bulk(parquet, rows, "SETTINGS default_compression_codec = 'ZSTD(1)'"))
        ch_small = {}
        for fsync in (0, 1):
            log(f"ClickHouse {len(bodies)} INSERTs of {args.batch} rows, fsync_after_insert = {fsync}")
            ch_small[fsync] = repeat(f"ch-batches-fsync{fsync}", r, workdir, ch_batches(parquet, bodies, fsync))
    finally:
        shutil.rmtree(workdir)
    for run in duck_small + ch_small[0] + ch_small[1]:
        if run["rows"] != n:
            sys.exit(f"a small-batch run stored {run['rows']} rows, not {n}")
    print_table(dict(args=args, rows=rows, distinct=distinct, otlp=otlp, n=n, waggle=waggle, single=single,
                     duck_bulk=duck_bulk, duck_small=duck_small, ch_lz4=ch_lz4, ch_zstd=ch_zstd, ch_small=ch_small))


def print_table(m):
    rows, n, otlp, waggle, single, batch = m["rows"], m["n"], m["otlp"], m["waggle"], m["single"], m["args"].batch

    def disk(runs):
        per_span = [run["bytes"] / rows for run in runs]
        return spread(per_span, "{:.1f}"), f"{otlp / statistics.median(per_span):.1f}×"

    def ingest(runs, rate="rows_per_s", p50="p50_ms", p99="p99_ms"):
        return (spread([run[rate] for run in runs]),
                f"{statistics.median(run[p50] for run in runs):.2f} / {statistics.median(run[p99] for run in runs):.2f} ms")

    def waggle_ingest(reports):
        return ingest(reports, "spans_per_second", "latency_ms_p50", "latency_ms_p99")

    def load(runs):
        return f"bulk load {spread([run['seconds'] for run in runs], '{:.1f}')} s"

    w = waggle[-1]
    table = [("waggle", f"{w['disk_bytes_per_span']:.1f}", f"{otlp / w['disk_bytes_per_span']:.1f}×", *waggle_ingest(waggle),
              f"{w['connections']} connections, OTLP/HTTP from another process, decoding included, fsync before each 200")]
    if single:
        table.append(("waggle, 1 connection", "", "", *waggle_ingest(single),
                      f"as above, one client, {single[0]['spans_acknowledged']:,} spans"))
    parts = statistics.median(run["parts"] for run in m["ch_lz4"])
    table += [
        ("DuckDB", *disk(m["duck_bulk"]), *ingest(m["duck_small"]),
         f"in-process, one client, fdatasync per commit; {load(m['duck_bulk'])}"),
        ("ClickHouse (chdb), LZ4, fsync_after_insert=0 (default)", *disk(m["ch_lz4"]), *ingest(m["ch_small"][0]),
         f"in-process, one client; **not durable** (no fsync per insert); {parts:.0f} parts after load; {load(m['ch_lz4'])}"),
        ("ClickHouse (chdb), fsync_after_insert=1", "", "", *ingest(m["ch_small"][1]),
         "as above, each insert's part fsync'd (durable)"),
        ("ClickHouse (chdb), ZSTD(1)", *disk(m["ch_zstd"]), "", "", f"storage only; {load(m['ch_zstd'])}"),
    ]
    print(f"\nSame {rows:,} spans ({m['distinct']:,} distinct span ids) in every store. OTLP protobuf: {otlp:.1f} B/span. "
          f"Median (min–max) of {m['args'].repeats} runs (waggle: `waggle-bench ingest --runs {len(waggle)}`).\n")
    if m["distinct"] < rows:
        print(f"**Warning: the {rows:,} spans hold only {m['distinct']:,} distinct span ids** (waggle-bench cycles "
              "through --pool pre-built requests): a store that sorts (ClickHouse ORDER BY) puts the repeats side by "
              "side and compresses them far better than real traffic. Raise waggle-bench --pool.\n")
    header = ("system", "bytes on disk / span", "OTLP bytes ÷ disk bytes", "small-batch durable ingest rows/s",
              "p50 / p99 batch latency", "notes")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for line in table:
        print("| " + " | ".join(line) + " |")
    print(f"""
How each was measured:
- waggle: `waggle-bench ingest` starts a release waggle and sends it uncompressed OTLP/HTTP protobuf requests of
  {w['batch']} spans from a separate process ({w['connections']} connections, {w['seconds']:.0f} s); every 200 comes after
  the WAL is fsync'd (group commit), so OTLP decoding, HTTP and fsync are all in the latency. Disk: the whole data
  directory after the head was flushed to segments (zstd -1), for the run that was exported.
- DuckDB {duckdb.__version__}: disk = database file after `CREATE TABLE spans AS SELECT * FROM read_parquet(...)`
  and CHECKPOINT. Ingest: the first {n:,} rows as Arrow slices of {batch} rows, each inserted with
  `con.from_arrow(slice).insert_into('spans')` in autocommit (one transaction, one WAL fdatasync per batch;
  DuckDB's automatic checkpoints, every 16 MiB of WAL, happen inside some of those commits).
- ClickHouse {chdb.engine_version} via chdb {chdb.__version__}: `CREATE TABLE spans ENGINE = MergeTree ORDER BY (dataset,
  timestamp) AS SELECT * FROM file(parquet, Parquet)`; disk = sum(bytes_on_disk) of active parts in system.parts
  right after the load (default codec LZ4; the ZSTD(1) row sets MergeTree default_compression_codec). Ingest: the same
  {n:,} rows, pre-serialized to one ArrowStream body per {batch} rows (as a client would send them, so the engine's
  decoding is timed), each a synchronous `INSERT INTO spans FORMAT ArrowStream` through Session.send_insert
  (async_insert=0; this build's default is async_insert=1), each creating a part. MergeTree has no WAL: by default
  the part is not fsync'd; fsync_after_insert=1 with fsync_part_directory=1 fsyncs it before the INSERT returns.
- Latency is per request / per batch (nearest-rank p50 and p99 within a run, then the median over runs).""")


if __name__ == "__main__":
    main()
