"""The AWS CLI and boto3 against waggle's X-Ray API, shared by the X-Ray tests.

Every call runs the real `aws` CLI of the test venv (SigV4-signed with dummy credentials, which
waggle reads but does not verify) or boto3 with the same credentials, against the AWS port.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import botocore.config

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIDWAGGLEXRAY",
    "AWS_SECRET_ACCESS_KEY": "not-checked",
    "AWS_DEFAULT_REGION": "us-east-1",
}
AWS_CLI = Path(sys.executable).with_name("aws")


def _run_aws(waggle, args: tuple[str, ...]) -> subprocess.CompletedProcess:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **AWS_ENV}
    return subprocess.run(
        [str(AWS_CLI), "--endpoint-url", waggle.aws, "--output", "json", "xray", *args],
        capture_output=True, text=True, env=env, timeout=60,
    )


def aws(waggle, *args: str) -> dict:
    """The AWS CLI against waggle's AWS port, JSON out."""
    result = _run_aws(waggle, args)
    assert result.returncode == 0, f"aws xray {' '.join(args)}: {result.stderr}"
    return json.loads(result.stdout) if result.stdout.strip() else {}


def aws_fails(waggle, *args: str) -> str:
    """The AWS CLI call that must fail; its stderr."""
    result = _run_aws(waggle, args)
    assert result.returncode != 0, f"aws xray {' '.join(args)} should fail: {result.stdout}"
    return result.stderr


def xray_client(waggle):
    return boto3.client(
        "xray", endpoint_url=waggle.aws, region_name="us-east-1",
        aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"], aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


def summaries(client, start: float, expression: str | None = None) -> list[dict]:
    kwargs = {"StartTime": start, "EndTime": time.time() + 60}
    if expression:
        kwargs["FilterExpression"] = expression
    found = []
    for page in client.get_paginator("get_trace_summaries").paginate(**kwargs):
        found.extend(page["TraceSummaries"])
    return found


def wait_for_traces(client, start: float, expression: str, count: int, timeout: float = 10.0) -> list[dict]:
    """The summaries matching `expression` once there are `count` (or what there is at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        found = summaries(client, start, expression)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)
