// The backend API, called with the caller's handle and inside the current action's span.

import type { Context } from "@opentelemetry/api";

import { config, currentUser } from "./config";
import { withContext } from "./telemetry";

export interface Activity {
  uuid: string;
  display_name: string;
  handle: string;
  message: string;
  reply_to_activity_uuid: string | null;
  likes_count: number;
  replies_count: number;
  reposts_count: number;
  created_at: string;
  expires_at: string;
  replies: Activity[];
}

export interface Message {
  uuid: string;
  display_name: string;
  handle: string;
  message: string;
  created_at: string;
}

export type MessageGroup = Message;

/** A non-2xx answer: the backend's `errors` codes. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(`HTTP ${status}: ${errors.join(", ")}`);
  }
}

async function request<T>(ctx: Context, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { [config.userHeader]: currentUser() };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await withContext(ctx, () =>
    fetch(`${config.backendUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, json.errors ?? [response.statusText]);
  return json as T;
}

export const api = {
  home: (ctx: Context) => request<Activity[]>(ctx, "GET", "/api/activities/home"),
  notifications: (ctx: Context) => request<Activity[]>(ctx, "GET", "/api/activities/notifications"),
  userFeed: (ctx: Context, handle: string) =>
    request<Activity[]>(ctx, "GET", `/api/activities/@${encodeURIComponent(handle)}`),
  search: (ctx: Context, term: string) =>
    request<Activity[]>(ctx, "GET", `/api/activities/search?term=${encodeURIComponent(term)}`),
  post: (ctx: Context, message: string, ttl: string) =>
    request<Activity>(ctx, "POST", "/api/activities", { message, ttl }),
  reply: (ctx: Context, uuid: string, message: string) =>
    request<Activity>(ctx, "POST", `/api/activities/${uuid}/reply`, { message }),
  messageGroups: (ctx: Context) => request<MessageGroup[]>(ctx, "GET", "/api/message_groups"),
  messages: (ctx: Context, handle: string) =>
    request<Message[]>(ctx, "GET", `/api/messages/@${encodeURIComponent(handle)}`),
  send: (ctx: Context, handle: string, message: string) =>
    request<Message>(ctx, "POST", "/api/messages", { user_receiver_handle: handle, message }),
};
