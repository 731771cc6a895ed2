// Settings: the API key (kept in this browser's localStorage) and the language. The key box
// lives here, not on the wall: a big screen shows no input a passer-by could read or use.

import { ApiError, apiKey, request, setApiKey } from "../api";
import { h } from "../dom";
import { lang, setLang, t } from "../i18n";
import { panel } from "../ui";

export function mountSettings(root: HTMLElement, _params: URLSearchParams, _rest: string[], rerender: () => void): void {
  const keyInput = h("input", {
    type: "password",
    class: "key",
    placeholder: t("keyPlaceholder"),
    autocomplete: "off",
    spellcheck: "false",
    "data-testid": "api-key",
    "aria-label": t("apiKey"),
  });
  keyInput.value = apiKey() ?? "";
  const status = h("span", { class: "key-status", "data-testid": "key-status", "data-state": apiKey() ? "set" : "anonymous" }, apiKey() ? t("keySet") : t("anonymous"));
  const save = async (): Promise<void> => {
    const previous = apiKey();
    setApiKey(keyInput.value);
    try {
      await request("{ __typename }");
      rerender();
    } catch (exc) {
      const code = exc instanceof ApiError ? exc.code : "";
      status.textContent = code === "UNAUTHENTICATED" ? t("keyRejected") : String((exc as Error).message);
      status.classList.add("bad");
      status.dataset.state = "rejected";
      setApiKey(previous);
    }
  };
  const form = h(
    "form",
    {
      class: "keybox",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void save();
      },
    },
    h("label", null, t("apiKey")),
    keyInput,
    h("button", { type: "submit", "data-testid": "api-key-save" }, t("save")),
    apiKey()
      ? h(
          "button",
          {
            type: "button",
            class: "ghost",
            "data-testid": "api-key-clear",
            onclick: () => {
              setApiKey(null);
              rerender();
            },
          },
          t("signOut"),
        )
      : null,
    status,
  );
  const language = h(
    "select",
    {
      "data-testid": "settings-lang",
      onchange: (e: Event) => {
        setLang((e.target as HTMLSelectElement).value === "en" ? "en" : "zh");
        rerender();
      },
    },
    h("option", { value: "zh", selected: lang() === "zh" }, "中文"),
    h("option", { value: "en", selected: lang() === "en" }, "English"),
  );
  root.append(
    h(
      "div",
      { class: "settings" },
      panel(t("apiKey"), { "data-testid": "settings-key" }, h("p", { class: "muted" }, t("keyHelp")), form),
      panel(t("language"), { "data-testid": "settings-language" }, language),
    ),
  );
}
