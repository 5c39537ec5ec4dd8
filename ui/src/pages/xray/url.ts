// The X-Ray traces page's URL, so any page can link to a filtered trace list:
//
//   /xray?q=<filter expression>&group=<group name>&t=30m     (or from/to in unix seconds)
//
//   q       an X-Ray filter expression (`service("cruddur-backend") { fault }`, `http.status = 500`)
//   group   a group name; its filter applies together with q (`group.name = "..."`). Default: none
//   t       relative range (10m, 30m, 1h, ...), or `from`/`to` absolute. Default: the last 30 minutes

import { href } from "../../router";
import { type TimeRange, rangeFromQuery, rangeToQuery } from "../../time";

export const XRAY_DEFAULT_RANGE: TimeRange = { kind: "relative", seconds: 1800 };

export interface XrayLocation {
  filter: string;
  group: string;
  range: TimeRange;
}

export function parseXrayLocation(query: URLSearchParams): XrayLocation {
  return { filter: query.get("q") ?? "", group: query.get("group") ?? "", range: rangeFromQuery(query, XRAY_DEFAULT_RANGE) };
}

export function xrayHref(location: Partial<XrayLocation>): string {
  return href("/xray", { q: location.filter, group: location.group, ...rangeToQuery(location.range ?? XRAY_DEFAULT_RANGE) });
}
