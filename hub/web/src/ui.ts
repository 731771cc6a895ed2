// Shared pieces of the pages: panels, loading and error states, colours.

import { ApiError } from "./api";
import { h, type Child } from "./dom";
import { t } from "./i18n";

export function panel(title: Child, attrs: Record<string, unknown> = {}, ...body: Child[]): HTMLElement {
  return h("section", { class: "panel", ...attrs }, h("h2", null, title), ...body);
}

export function loading(): HTMLElement {
  return h("div", { class: "muted loading" }, t("loading"));
}

/** An inline message for a failed request: the API's code decides the words. */
export function failure(exc: unknown): HTMLElement {
  const code = exc instanceof ApiError ? exc.code : "INTERNAL";
  const message = exc instanceof Error ? exc.message : String(exc);
  let text = message;
  if (code === "FORBIDDEN") text = t("forbidden");
  else if (code === "UNAUTHENTICATED") text = apiKeyMessage();
  return h("div", { class: "failure", "data-code": code }, h("strong", null, code), " ", text);
}

function apiKeyMessage(): string {
  return localStorage.getItem("elh.apiKey") ? t("keyRejected") : t("needsKey");
}

export const ACTIVITY_COLOURS: Record<string, string> = {
  ACTIVE: "#2fb171",
  LOW: "#e3b341",
  IDLE: "#e5534b",
  QUIET: "#4f7cac",
  NO_DATA: "#6e7781",
};

export const WARNING_COLOURS: Record<string, string> = {
  GREEN: "#2fb171",
  YELLOW: "#e3b341",
  RED: "#e5534b",
};

export const SEVERITY_COLOURS: Record<string, string> = {
  CRITICAL: "#e5534b",
  MAJOR: "#f0883e",
  MINOR: "#e3b341",
  WARNING: "#58a6ff",
  INDETERMINATE: "#6e7781",
};

export function badge(text: string, colour: string, attrs: Record<string, unknown> = {}): HTMLElement {
  return h("span", { class: "badge", style: { "--c": colour }, ...attrs }, text);
}

export function projectLink(code: string, label?: Child): HTMLElement {
  return h("a", { href: `#/project/${encodeURIComponent(code)}`, class: "project-link" }, label ?? code);
}

export function time(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { hour12: false });
}

export function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString(undefined, { hour12: false });
}
