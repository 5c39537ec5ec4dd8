// Browser tracing: a span per page view and user action, the fetches inside them as children, and
// traceparent on every call to the backend so its spans join the same trace.
//
// Context is passed explicitly (context.with around each fetch) instead of through zone.js:
// native async/await escapes zone.js, and the bundle stays small.

import { context, trace, SpanStatusCode, type Attributes, type Context, type Span } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { DocumentLoadInstrumentation } from "@opentelemetry/instrumentation-document-load";
import { FetchInstrumentation } from "@opentelemetry/instrumentation-fetch";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, type ReadableSpan, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { WebTracerProvider } from "@opentelemetry/sdk-trace-web";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

import { config, currentUser } from "./config";

/** Puts `app.user_id` on every span, as the bootcamp's frontend challenge does. */
class UserIdProcessor implements SpanProcessor {
  onStart(span: Span): void {
    span.setAttribute("app.user_id", currentUser());
  }
  onEnd(_span: ReadableSpan): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const exporter = new OTLPTraceExporter({
  url: config.otlpTracesUrl,
  headers: Object.fromEntries(config.otlpHeaders),
});
const batch = new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 });
const provider = new WebTracerProvider({
  resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
  spanProcessors: [new UserIdProcessor(), batch],
});
provider.register({ propagator: new W3CTraceContextPropagator() });

registerInstrumentations({
  instrumentations: [
    new DocumentLoadInstrumentation(),
    new FetchInstrumentation({
      // Only the backend gets traceparent: other origins would reject the unexpected header.
      propagateTraceHeaderCorsUrls: [new RegExp(`^${escapeRegExp(config.backendUrl)}/`)],
      ignoreUrls: [new RegExp(`^${escapeRegExp(config.otlpTracesUrl)}`)],
      clearTimingResources: true,
    }),
  ],
});

// Spans still in the batch go out when the tab is hidden or closed.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") void batch.forceFlush();
});

const tracer = trace.getTracer("cruddur-frontend");

/** Runs `work` inside a new span `name`; fetches given its context become the span's children. */
export async function traced<T>(name: string, attributes: Attributes, work: (ctx: Context) => Promise<T>): Promise<T> {
  const span = tracer.startSpan(name, { attributes });
  const ctx = trace.setSpan(context.active(), span);
  try {
    return await work(ctx);
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
    throw error;
  } finally {
    span.end();
  }
}

/** Calls `fn` with `ctx` active, so an instrumented fetch started in it is a child of its span. */
export function withContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}
