// What the backend's /config.js tells the page: where the API and the OTLP receiver are.

export interface CruddurConfig {
  backendUrl: string;
  backendPort: number;
  otlpTracesUrl: string;
  otlpHeaders: [string, string][];
  serviceName: string;
  userHeader: string;
}

declare global {
  interface Window {
    CRUDDUR_CONFIG?: Partial<CruddurConfig>;
  }
}

const loaded = window.CRUDDUR_CONFIG ?? {};

export const config: CruddurConfig = {
  backendUrl: loaded.backendUrl ?? `http://${location.hostname}:4567`,
  backendPort: loaded.backendPort ?? 4567,
  otlpTracesUrl: loaded.otlpTracesUrl ?? "http://localhost:4318/v1/traces",
  otlpHeaders: loaded.otlpHeaders ?? [],
  serviceName: loaded.serviceName ?? "cruddur-frontend",
  userHeader: loaded.userHeader ?? "x-cruddur-user",
};

export const USERS = ["andrewbrown", "worf", "garek", "bayko", "coco"];

const USER_KEY = "cruddur.user";

/** The handle the page acts as (no sign-in yet: picked in the header, kept in localStorage). */
export function currentUser(): string {
  return localStorage.getItem(USER_KEY) ?? USERS[0];
}

export function setCurrentUser(handle: string): void {
  localStorage.setItem(USER_KEY, handle);
}
