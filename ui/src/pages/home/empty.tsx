// The first-run card: how to send data to this waggle (the variables `waggle up` prints).

import type { Dataset } from "../../api";
import { Card } from "../../components/common";

export function GettingStarted({ logs }: { logs: Dataset[] }) {
  const host = window.location.hostname || "127.0.0.1";
  const web = window.location.origin;
  return (
    <Card title="Send your first traces" testid="empty-home" class="hm-empty">
      <p>
        waggle has not received a span yet. Point your app's OpenTelemetry exporter at waggle's OTLP port (the one <code>waggle up</code>{" "}
        printed; 4318 by default) and this page fills with your services, their request and error rates, P99 latency and recent traces.
      </p>
      <pre class="hm-code" data-testid="empty-env">
        {`export OTEL_EXPORTER_OTLP_ENDPOINT=http://${host}:4318
export OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=local   # any value
export OTEL_SERVICE_NAME=backend-flask
export AWS_ENDPOINT_URL=http://${host}:4566               # CloudWatch Logs, X-Ray API
export AWS_XRAY_DAEMON_ADDRESS=${host}:2000                # X-Ray SDK
# Rollbar: rollbar.init(<token waggle up printed>, 'production', endpoint='${web}/api/1/')`}
      </pre>
      <p class="muted">
        Or run <code>waggle up</code> without <code>--no-demo</code>: it starts Cruddur, the bootcamp's app, with traffic from five users.
        {logs.length > 0 && <> Log lines and errors have arrived already: see the Logs and Errors pages.</>}
      </p>
    </Card>
  );
}
