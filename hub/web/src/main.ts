// The console shell: header (navigation, language, API key) and a hash router over the pages.

import "./style.css";
import { ApiError, apiKey, request, setApiKey } from "./api";
import { clear, h } from "./dom";
import { lang, setLang, t } from "./i18n";
import { mountChains } from "./pages/chains";
import { mountProject } from "./pages/project";
import { mountWall } from "./pages/wall";

export type Cleanup = () => void;
export type Page = (root: HTMLElement, params: URLSearchParams, rest: string[]) => Cleanup | void;

const PAGES: Record<string, Page> = { wall: mountWall, chains: mountChains, project: mountProject };

const app = document.getElementById("app")!;
const header = h("header", { class: "top" });
const main = h("main", { class: "page" });
app.replaceChildren(header, main);
setLang(lang());

let cleanup: Cleanup | void;

function route(): { name: string; params: URLSearchParams; rest: string[] } {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path = "", search = ""] = hash.split("?");
  const [name = "wall", ...rest] = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { name: name in PAGES ? name : "wall", params: new URLSearchParams(search), rest };
}

function render(): void {
  if (cleanup) cleanup();
  cleanup = undefined;
  const r = route();
  renderHeader(r.name);
  main.replaceChildren();
  main.className = `page page-${r.name}`;
  cleanup = PAGES[r.name]!(main, r.params, r.rest);
}

function renderHeader(active: string): void {
  const link = (name: string, label: string) =>
    h("a", { href: `#/${name}`, class: name === active ? "active" : "", "data-testid": `nav-${name}` }, label);
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
  const status = h("span", { class: "key-status", "data-testid": "key-status" }, apiKey() ? t("keySet") : t("anonymous"));
  const save = async (): Promise<void> => {
    const previous = apiKey();
    setApiKey(keyInput.value);
    try {
      await request("{ __typename }");
      render();
    } catch (exc) {
      const code = exc instanceof ApiError ? exc.code : "";
      status.textContent = code === "UNAUTHENTICATED" ? t("keyRejected") : String((exc as Error).message);
      status.classList.add("bad");
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
            onclick: () => {
              setApiKey(null);
              render();
            },
          },
          t("signOut"),
        )
      : null,
    status,
  );
  const langButton = h(
    "button",
    {
      class: "lang ghost",
      "data-testid": "lang",
      onclick: () => {
        setLang(lang() === "zh" ? "en" : "zh");
        render();
      },
    },
    lang() === "zh" ? "English" : "中文",
  );
  clear(
    header,
    h("div", { class: "brand" }, h("span", { class: "logo" }, "e"), t("title")),
    h("nav", null, link("wall", t("navWall")), link("chains", t("navChains"))),
    h("div", { class: "spacer" }),
    form,
    langButton,
  );
}

window.addEventListener("hashchange", render);
render();
