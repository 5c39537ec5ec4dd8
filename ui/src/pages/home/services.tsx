// The services table: per trace dataset, requests, error rate and P99 with sparklines, and the totals.

import { Sparkline } from "../../components/sparkline";
import { colorFor, formatDuration, formatNumber, formatPercent, formatRate } from "../../format";
import type { TimeRange } from "../../time";
import { queryHref } from "../query/url";
import type { ServiceStats } from "./stats";

const ERROR_COLOR = "#d92d20";
const P99_COLOR = "#9b5de5";

export function TotalsStrip({ totals, services }: { totals: ServiceStats; services: number }) {
  const rate = totals.count ? totals.errors / totals.count : null;
  return (
    <section class="card hm-totals" data-testid="totals">
      <Total label="Requests" value={formatNumber(totals.count)} detail={formatRate(totals.perMinute)} testid="total-requests" raw={totals.count} />
      <Total label="Error rate" value={formatPercent(rate, 2)} detail={`${formatNumber(totals.errors)} errors`} testid="total-error-rate" tone={rate && rate > 0.01 ? "error" : undefined} />
      <Total label="P99 latency" value={formatDuration(totals.p99)} detail="every service" testid="total-p99" />
      <Total label="Services" value={String(services)} detail="sending spans" testid="total-services" />
    </section>
  );
}

function Total({ label, value, detail, testid, tone, raw }: { label: string; value: string; detail: string; testid: string; tone?: "error"; raw?: number }) {
  return (
    <div class={tone ? `hm-total ${tone}` : "hm-total"}>
      <div class="hm-total-label">{label}</div>
      <div class="hm-total-value" data-testid={testid} data-value={raw}>
        {value}
      </div>
      <div class="hm-total-detail">{detail}</div>
    </div>
  );
}

export function ServicesTable({ services, range, onTraces }: { services: ServiceStats[]; range: TimeRange; onTraces: (dataset: string) => void }) {
  return (
    <table class="data hm-services" data-testid="services">
      <thead>
        <tr>
          <th>Service</th>
          <th class="num">Requests</th>
          <th />
          <th class="num">Error rate</th>
          <th />
          <th class="num">P99</th>
          <th />
          <th />
        </tr>
      </thead>
      <tbody>
        {services.map((service) => {
          const rate = service.count ? service.errors / service.count : null;
          const link = queryHref({ dataset: service.dataset, spec: service.spec, range });
          return (
            <tr data-testid="service-row" data-dataset={service.dataset} data-count={service.count} data-errors={service.errors}>
              <td>
                <a href={link} class="hm-service-name" data-testid="service-link" title={`Query ${service.dataset}'s requests`}>
                  <span class="hm-swatch" style={{ background: colorFor(service.dataset) }} />
                  {service.dataset}
                </a>
              </td>
              <td class="num" title={`${formatNumber(service.count)} requests (server and root spans)`}>
                <div class="hm-big" data-testid="service-count">
                  {formatNumber(service.count)}
                </div>
                <div class="hm-small" data-testid="service-rate">
                  {formatRate(service.perMinute)}
                </div>
              </td>
              <td class="hm-spark">
                <Sparkline values={service.series.count} color={colorFor(service.dataset)} testid="spark-requests" />
              </td>
              <td class="num" title={`${formatNumber(service.errors)} of ${formatNumber(service.count)} requests failed`}>
                <div class={rate && rate > 0.01 ? "hm-big hm-bad" : "hm-big"} data-testid="service-error-rate">
                  {formatPercent(rate, 2)}
                </div>
                <div class="hm-small">{formatNumber(service.errors)} errors</div>
              </td>
              <td class="hm-spark">
                <Sparkline values={service.series.errorRate.map((v) => (v === null ? null : v * 100))} color={ERROR_COLOR} testid="spark-errors" />
              </td>
              <td class="num" title={service.p99 === null ? "no requests" : `${service.p99} ms`}>
                <div class="hm-big" data-testid="service-p99">
                  {formatDuration(service.p99)}
                </div>
                <div class="hm-small">99th percentile</div>
              </td>
              <td class="hm-spark">
                <Sparkline values={service.series.p99} color={P99_COLOR} testid="spark-p99" />
              </td>
              <td class="hm-actions">
                <button type="button" class="button small" onClick={() => onTraces(service.dataset)} title={`Recent traces of ${service.dataset}`}>
                  Traces
                </button>
                <a class="button small" href={link}>
                  Query
                </a>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
