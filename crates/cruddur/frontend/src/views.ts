// The pages: each fetches inside the span it is given and returns what to show.

import type { Context } from "@opentelemetry/api";

import { api, ApiError, type Activity, type Message } from "./api";
import { currentUser } from "./config";
import { ago, h, link } from "./dom";
import { traced } from "./telemetry";

const TTLS = ["30-days", "7-days", "3-days", "1-day", "12-hours", "3-hours", "1-hour"];

/** Errors shown to the user: the backend's codes, readable. */
export function errorBox(error: unknown): HTMLElement {
  const lines = error instanceof ApiError ? error.errors.map((code) => code.replace(/_/g, " ")) : [String(error)];
  return h("div", { class: "errors", role: "alert", "data-testid": "errors" }, ...lines.map((line) => h("p", {}, line)));
}

/** Runs a user action in its own span; errors land in `errors` instead of escaping. */
async function action(name: string, errors: HTMLElement, work: (ctx: Context) => Promise<void>): Promise<void> {
  errors.replaceChildren();
  try {
    await traced(`user-action ${name}`, { "app.action": name }, work);
  } catch (error) {
    errors.replaceChildren(errorBox(error));
  }
}

function activityCard(activity: Activity, rerender: () => void): HTMLElement {
  const errors = h("div");
  const text = h("textarea", { name: "message", placeholder: "Reply...", rows: "2" });
  const form = h("form", { class: "reply-form", hidden: "" }, text, h("button", { type: "submit" }, "Reply"), errors);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void action("reply", errors, async (ctx) => {
      await api.reply(ctx, activity.uuid, text.value);
      rerender();
    });
  });
  const toggle = h("button", { class: "link", type: "button" }, `Reply (${activity.replies_count})`);
  toggle.addEventListener("click", () => form.toggleAttribute("hidden"));
  return h(
    "article",
    { class: "activity", "data-testid": "activity", "data-uuid": activity.uuid },
    h(
      "header",
      {},
      link(`/@${activity.handle}`, activity.display_name, { class: "name" }),
      h("span", { class: "muted" }, ` @${activity.handle} · ${ago(activity.created_at)}`),
    ),
    h("p", { class: "text" }, activity.message),
    activity.reply_to_activity_uuid ? null : h("footer", {}, toggle, h("span", { class: "muted" }, ` ♥ ${activity.likes_count}`)),
    form,
    activity.replies.length
      ? h("div", { class: "replies" }, ...activity.replies.map((reply) => activityCard(reply, rerender)))
      : null,
  );
}

function feed(activities: Activity[], rerender: () => void): HTMLElement {
  if (!activities.length) return h("p", { class: "muted", "data-testid": "empty" }, "Nothing here yet.");
  return h("section", { class: "feed" }, ...activities.map((activity) => activityCard(activity, rerender)));
}

function postForm(rerender: () => void): HTMLElement {
  const errors = h("div");
  const text = h("textarea", { name: "message", placeholder: "What would you like to crud?", rows: "3" });
  const ttl = h("select", { name: "ttl" }, ...TTLS.map((value) => h("option", { value }, value)));
  ttl.value = "7-days";
  const form = h(
    "form",
    { class: "post-form", "data-testid": "post-form" },
    text,
    h("div", { class: "row" }, ttl, h("button", { type: "submit" }, "Crud")),
    errors,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void action("post-activity", errors, async (ctx) => {
      await api.post(ctx, text.value, ttl.value);
      text.value = "";
      rerender();
    });
  });
  return form;
}

function messageList(messages: Message[]): HTMLElement {
  return h(
    "section",
    { class: "messages" },
    ...messages.map((message) =>
      h(
        "div",
        { class: message.handle === currentUser() ? "message mine" : "message", "data-testid": "message" },
        h("span", { class: "muted" }, `${message.display_name} · ${ago(message.created_at)}`),
        h("p", {}, message.message),
      ),
    ),
  );
}

function sendForm(handle: string, rerender: () => void): HTMLElement {
  const errors = h("div");
  const text = h("textarea", { name: "message", placeholder: `Message @${handle}`, rows: "2" });
  const form = h("form", { class: "send-form", "data-testid": "send-form" }, text, h("button", { type: "submit" }, "Send"), errors);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void action("send-message", errors, async (ctx) => {
      await api.send(ctx, handle, text.value);
      rerender();
    });
  });
  return form;
}

/** A page: its route template (for span attributes), title and content. */
export interface Page {
  route: string;
  title: string;
  load: (ctx: Context, rerender: () => void) => Promise<HTMLElement[]>;
}

/** The page for `path` (`/`, `/notifications`, `/search`, `/@worf`, `/messages`, `/messages/@worf`). */
export function pageFor(path: string, query: URLSearchParams): Page {
  const user = path.match(/^\/@([^/]+)$/);
  const conversation = path.match(/^\/messages\/@([^/]+)$/);
  if (path === "/notifications") {
    return { route: "/notifications", title: "Notifications", load: async (ctx, rerender) => [feed(await api.notifications(ctx), rerender)] };
  }
  if (path === "/search") {
    const term = query.get("term") ?? "";
    return { route: "/search", title: `Search: ${term}`, load: async (ctx, rerender) => [feed(await api.search(ctx, term), rerender)] };
  }
  if (user) {
    const handle = decodeURIComponent(user[1]);
    return { route: "/@{handle}", title: `@${handle}`, load: async (ctx, rerender) => [feed(await api.userFeed(ctx, handle), rerender)] };
  }
  if (path === "/messages") {
    return {
      route: "/messages",
      title: "Messages",
      load: async (ctx) => {
        const groups = await api.messageGroups(ctx);
        const items = groups.map((group) => {
          const item = link(`/messages/@${group.handle}`, "", { class: "group", "data-testid": "message-group" });
          item.append(
            h("strong", {}, group.display_name),
            h("span", { class: "muted" }, ` @${group.handle} · ${ago(group.created_at)}`),
            h("p", {}, group.message),
          );
          return item;
        });
        return [h("section", { class: "groups" }, ...items)];
      },
    };
  }
  if (conversation) {
    const handle = decodeURIComponent(conversation[1]);
    return {
      route: "/messages/@{handle}",
      title: `Messages with @${handle}`,
      load: async (ctx, rerender) => [messageList(await api.messages(ctx, handle)), sendForm(handle, rerender)],
    };
  }
  return { route: "/", title: "Home", load: async (ctx, rerender) => [postForm(rerender), feed(await api.home(ctx), rerender)] };
}

/** Shows `page` in `main`, fetching inside a `page-view` span. */
export async function show(page: Page, main: HTMLElement, rerender: () => void): Promise<void> {
  document.title = `${page.title} · Cruddur`;
  const heading = h("h1", {}, page.title);
  try {
    const content = await traced(`page-view ${page.route}`, { "page.route": page.route, "url.path": location.pathname }, (ctx) =>
      page.load(ctx, rerender),
    );
    main.replaceChildren(heading, ...content);
  } catch (error) {
    main.replaceChildren(heading, errorBox(error));
  }
  main.setAttribute("data-loaded", page.route);
}
