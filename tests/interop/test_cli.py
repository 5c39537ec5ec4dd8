"""The waggle CLI against a running server and its data: `waggle trace` draws the waterfall,
`waggle export` writes Parquet that real DuckDB reads, and `waggle up --help` reads well."""

import subprocess

import duckdb

from conftest import waggle_bin
from support import assert_accepted, post_traces, trace_batch


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(waggle_bin()), *args], capture_output=True, text=True, timeout=60)


def test_trace_command_draws_the_waterfall(waggle):
    req, trace_ids = trace_batch("cli-svc", n_traces=1, spans_per_trace=3, tag="cli")
    assert_accepted(post_traces(waggle, req))
    waggle.trace(trace_ids[0])  # waits until readable

    out = run_cli("trace", trace_ids[0], "--url", waggle.web)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith(f"trace {trace_ids[0]}  3 spans"), out.stdout
    # trace_batch parents spans 1 and 2 on the root: both drawn one level in, in start order.
    indents = [len(line) - len(line.lstrip(" ")) for line in lines[1:4]]
    assert indents == [0, 2, 2], out.stdout
    assert [line.split()[0:2] for line in lines[1:4]] == [["GET", "/api/items"], ["step", "1"], ["step", "2"]]
    assert all("|" in line and "cli-svc" in line for line in lines[1:4])

    missing = run_cli("trace", "0" * 31 + "1", "--url", waggle.web)
    assert missing.returncode == 1 and "no span or log has trace id" in missing.stderr
    down = run_cli("trace", trace_ids[0], "--url", "http://127.0.0.1:9")
    assert down.returncode == 1 and "is it running?" in down.stderr


def test_export_writes_parquet_duckdb_reads(waggle, tmp_path):
    req, trace_ids = trace_batch("export-svc", n_traces=4, spans_per_trace=5, tag="export")
    assert_accepted(post_traces(waggle, req))
    waggle.trace(trace_ids[-1])

    # Read-only export works while the server runs on the same data directory.
    out_file = tmp_path / "spans.parquet"
    out = run_cli("export", "--data-dir", str(waggle.data_dir), "--from", "2h", "--dataset", "export-svc", "--out", str(out_file))
    assert out.returncode == 0, out.stderr
    # 20 spans and 4 span events (trace_batch adds a "tick" event to span 1 of each trace).
    assert "wrote 24 rows" in out.stdout

    con = duckdb.connect()
    rows = con.execute(
        f"""select count(*) filter (where "meta.annotation_type" is null),
                   count(*) filter (where "meta.annotation_type" = 'span_event'),
                   count(distinct "trace.trace_id"), min("meta.signal_type"), max(dataset)
            from read_parquet('{out_file}')"""
    ).fetchone()
    assert rows == (20, 4, 4, "trace", "export-svc")
    exported_ids = {row[0] for row in con.execute(f"""select distinct "trace.trace_id" from '{out_file}'""").fetchall()}
    assert exported_ids == set(trace_ids)
    columns = {row[0]: row[1] for row in con.execute(f"describe select * from '{out_file}'").fetchall()}
    assert columns["timestamp"].startswith("TIMESTAMP"), columns
    assert columns["duration_ms"] == "DOUBLE"

    bad = run_cli("export", "--data-dir", str(waggle.data_dir), "--table", "metrics", "--out", str(out_file))
    assert bad.returncode == 1 and "--table must be traces or logs" in bad.stderr


def test_help_lists_every_command():
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("up", "serve", "trace", "export"):
        assert f"\n  {command} " in out.stdout
    up = run_cli("up", "--help")
    assert "--no-demo" in up.stdout and "--data-dir" in up.stdout and "WAGGLE_DATA_DIR" in up.stdout
