// The console shell: header (navigation, language, whether a key is in use) and a hash router
// over the pages; the API key is entered on the settings page.

import "./style.css";
import { apiKey } from "./api";
import { clear, h } from "./dom";
import { lang, setLang, t } from "./i18n";
import { mountChains } from "./pages/chains";
import { mountProject } from "./pages/project";
import { mountSettings } from "./pages/settings";
import { mountWall } from "./pages/wall";

export type Cleanup = () => void;
export type Page = (root: HTMLElement, params: URLSearchParams, rest: string[], rerender: () => void) => Cleanup | void;

const PAGES: Record<string, Page> = { wall: mountWall, chains: mountChains, project: mountProject, settings: mountSettings };

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
  cleanup = PAGES[r.name]!(main, r.params, r.rest, render);
}

function renderHeader(active: string): void {
  const link = (name: string, label: string) =>
    h("a", { href: `#/${name}`, class: name === active ? "active" : "", "data-testid": `nav-${name}` }, label);
  // The header only says whether a key is in use; the key itself is entered on the settings
  // page, so the wall (a big screen) shows no key box.
  const keyState = h(
    "a",
    { href: "#/settings", class: "key-state", "data-testid": "key-state", "data-state": apiKey() ? "set" : "anonymous" },
    apiKey() ? t("keySet") : t("anonymous"),
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
    h("nav", null, link("wall", t("navWall")), link("chains", t("navChains")), link("settings", t("navSettings"))),
    h("div", { class: "spacer" }),
    keyState,
    langButton,
  );
}

window.addEventListener("hashchange", render);
render();
