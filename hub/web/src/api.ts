// The console's only way to the hub: the public GraphQL API (POST /graphql, and
// graphql-transport-ws on the same path for subscriptions), with the API key the user entered.

import { createClient, type Client } from "graphql-ws";
import { lang } from "./i18n";

const KEY_STORAGE = "elh.apiKey";
const listeners = new Set<() => void>();

export function apiKey(): string | null {
  const key = localStorage.getItem(KEY_STORAGE);
  return key && key.trim() ? key.trim() : null;
}

export function setApiKey(key: string | null): void {
  if (key && key.trim()) localStorage.setItem(KEY_STORAGE, key.trim());
  else localStorage.removeItem(KEY_STORAGE);
  if (wsClient) {
    void wsClient.dispose();
    wsClient = null;
  }
  listeners.forEach((f) => f());
}

export function onKeyChange(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

export interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string };
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly errors: GqlError[] = [],
  ) {
    super(message);
  }
}

export interface Answer<T> {
  data: T | null;
  errors: GqlError[];
}

/** Runs a query or mutation; field errors come back beside the data they spared. */
export async function request<T>(query: string, variables: Record<string, unknown> = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    Accept: "application/graphql-response+json, application/json",
    // Texts the hub renders (alert messages) come in the console's language.
    "Accept-Language": lang() === "en" ? "en" : "zh-CN",
  };
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response: Response;
  try {
    response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  } catch (exc) {
    throw new ApiError(`the hub cannot be reached (${String(exc)})`, "NETWORK");
  }
  let body: { data?: T | null; errors?: GqlError[] };
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`the hub answered HTTP ${response.status} without JSON`, "HTTP_" + response.status);
  }
  const errors = body.errors ?? [];
  if (body.data === undefined || body.data === null) {
    const first = errors[0];
    throw new ApiError(first?.message ?? `HTTP ${response.status}`, first?.extensions?.code ?? "INTERNAL", errors);
  }
  return { data: body.data, errors };
}

/** Runs a query and insists on a clean answer. */
export async function query<T>(q: string, variables: Record<string, unknown> = {}): Promise<T> {
  const answer = await request<T>(q, variables);
  if (answer.errors.length) {
    const first = answer.errors[0]!;
    throw new ApiError(first.message, first.extensions?.code ?? "INTERNAL", answer.errors);
  }
  return answer.data as T;
}

let wsClient: Client | null = null;

function ws(): Client {
  if (!wsClient) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const key = apiKey();
    wsClient = createClient({
      // Browsers cannot set Accept-Language on the upgrade: the language rides in the URL.
      url: `${scheme}://${location.host}/graphql?lang=${lang() === "en" ? "en" : "zh-CN"}`,
      // Browsers cannot set headers on the upgrade: the key goes in connection_init.
      connectionParams: key ? { Authorization: `Bearer ${key}` } : {},
      lazy: true,
      retryAttempts: 1000,
      shouldRetry: () => true,
      keepAlive: 20_000,
    });
  }
  return wsClient;
}

export interface Subscription {
  close(): void;
}

/** Subscribes over graphql-transport-ws; onEvent gets each event's data. */
export function subscribe<T>(
  q: string,
  variables: Record<string, unknown>,
  onEvent: (data: T) => void,
  onState: (state: "live" | "error", detail?: string) => void,
): Subscription {
  const client = ws();
  let first = true;
  const stop = client.subscribe<T>(
    { query: q, variables },
    {
      next: (value) => {
        if (first) {
          first = false;
          onState("live");
        }
        if (value.errors?.length) {
          onState("error", value.errors.map((e) => e.message).join("; "));
        } else if (value.data) {
          onEvent(value.data as T);
        }
      },
      error: (err) => {
        const detail = err instanceof CloseEvent ? `${err.code} ${err.reason}` : String((err as Error)?.message ?? err);
        onState("error", detail);
      },
      complete: () => undefined,
    },
  );
  const offConnected = client.on("connected", () => onState("live"));
  return {
    close() {
      offConnected();
      stop();
    },
  };
}
