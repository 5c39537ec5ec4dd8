// waggle's console: one page per view, routed on the client; the URL holds each view's state.

import { render } from "preact";

import { warmUpFormats } from "./format";
import { ErrorPage } from "./pages/errors";
import { HomePage } from "./pages/home";
import { LogsPage } from "./pages/logs";
import { MapPage } from "./pages/map";
import { QueryPage } from "./pages/query";
import { TracePage } from "./pages/trace";
import { XrayPage } from "./pages/xray";
import { interceptLinks, useLocation } from "./router";
import "./style.css";

interface NavItem {
  href: string;
  label: string;
  icon: string;
  /** Which paths highlight the item. */
  matches: (path: string) => boolean;
}

const NAV: NavItem[] = [
  { href: "/", label: "Home", icon: "◉", matches: (p) => p === "/" },
  { href: "/query", label: "Query", icon: "▦", matches: (p) => p.startsWith("/query") },
  { href: "/map", label: "Service map", icon: "⬡", matches: (p) => p.startsWith("/map") },
  { href: "/xray", label: "X-Ray traces", icon: "≋", matches: (p) => p.startsWith("/xray") },
  { href: "/logs", label: "Logs", icon: "☰", matches: (p) => p.startsWith("/logs") },
  { href: "/errors", label: "Errors", icon: "⚠", matches: (p) => p.startsWith("/errors") },
];

function Page({ path, query }: { path: string; query: URLSearchParams }) {
  const trace = /^\/trace\/([^/]+)$/.exec(path);
  if (trace) return <TracePage traceId={decodeURIComponent(trace[1])} query={query} />;
  if (path === "/") return <HomePage query={query} />;
  if (path === "/query") return <QueryPage query={query} />;
  if (path === "/map") return <MapPage query={query} />;
  if (path === "/xray") return <XrayPage query={query} />;
  if (path === "/logs") return <LogsPage query={query} />;
  const error = /^\/errors(?:\/([^/]+))?$/.exec(path);
  if (error) return <ErrorPage itemId={error[1]} query={query} />;
  return (
    <main class="page" data-page="not-found">
      <h1>Not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <a href="/">Go home</a>.
      </p>
    </main>
  );
}

function App() {
  const { path, query } = useLocation();
  return (
    <div class="shell">
      <nav class="sidebar" aria-label="Main">
        <a class="brand" href="/">
          <img src="/favicon.svg" alt="" width="24" height="24" />
          <span>waggle</span>
        </a>
        {NAV.map((item) => (
          <a href={item.href} class={item.matches(path) ? "nav-item active" : "nav-item"} aria-current={item.matches(path) ? "page" : undefined}>
            <span class="nav-icon" aria-hidden="true">
              {item.icon}
            </span>
            {item.label}
          </a>
        ))}
        <div class="sidebar-foot">local · 127.0.0.1</div>
      </nav>
      <div class="content">
        <Page path={path} query={query} />
      </div>
    </div>
  );
}

const root = document.getElementById("app")!;
interceptLinks(root);
render(<App />, root);
warmUpFormats();
