// Cruddur in the browser: a header with navigation and the user picker, and one page at a time,
// routed on the client (the server answers index.html for every page path).

import "./telemetry";

import { currentUser, setCurrentUser, USERS } from "./config";
import { h, link } from "./dom";
import { pageFor, show } from "./views";

const main = h("main", { "data-testid": "main" });

function render(): void {
  void show(pageFor(location.pathname, new URLSearchParams(location.search)), main, render);
}

function navigate(href: string): void {
  history.pushState(null, "", href);
  render();
}

function header(): HTMLElement {
  const picker = h("select", { "aria-label": "Signed in as", "data-testid": "user-picker" }, ...USERS.map((handle) => h("option", { value: handle }, `@${handle}`)));
  picker.value = currentUser();
  picker.addEventListener("change", () => {
    setCurrentUser(picker.value);
    document.body.replaceChildren(header(), main);
    render();
  });
  const search = h("input", { type: "search", name: "term", placeholder: "Search cruds", "aria-label": "Search" });
  const searchForm = h("form", { class: "search", role: "search" }, search);
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    navigate(`/search?term=${encodeURIComponent(search.value)}`);
  });
  return h(
    "header",
    { class: "top" },
    link("/", "Cruddur", { class: "brand" }),
    h(
      "nav",
      {},
      link("/", "Home"),
      link("/notifications", "Notifications"),
      link("/messages", "Messages"),
      link(`/@${currentUser()}`, "Profile", { "data-testid": "profile-link" }),
    ),
    searchForm,
    picker,
  );
}

document.addEventListener("click", (event) => {
  const anchor = (event.target as Element).closest("a[data-link]");
  if (anchor instanceof HTMLAnchorElement && anchor.origin === location.origin) {
    event.preventDefault();
    navigate(anchor.pathname + anchor.search);
  }
});
window.addEventListener("popstate", render);

document.body.replaceChildren(header(), main);
render();
