// Bundles src/ into dist/ with esbuild: hashed assets under dist/assets/ (served with a
// long-lived cache) and dist/index.html naming them (served with no-cache). No CDN at run time:
// everything the console needs is in dist/.
import { build } from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");

await rm(dist, { recursive: true, force: true });
await mkdir(join(dist, "assets"), { recursive: true });

const result = await build({
  entryPoints: [join(here, "src", "main.ts")],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "esm",
  target: ["chrome110", "firefox110", "safari16"],
  outdir: join(dist, "assets"),
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  metafile: true,
  legalComments: "linked",
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const script = outputs.find((p) => p.endsWith(".js"));
const style = outputs.find((p) => p.endsWith(".css"));
if (!script || !style) {
  throw new Error(`build: expected a .js and a .css output, got ${outputs.join(", ")}`);
}
const template = await readFile(join(here, "src", "index.html"), "utf8");
const html = template
  .replace("%SCRIPT%", `/assets/${script}`)
  .replace("%STYLE%", `/assets/${style}`);
await writeFile(join(dist, "index.html"), html);

let bytes = 0;
for (const [path, info] of Object.entries(result.metafile.outputs)) {
  if (!path.endsWith(".map")) bytes += info.bytes;
}
console.log(`console built: dist/index.html, ${outputs.length} assets, ${(bytes / 1024).toFixed(0)} KiB (js+css, minified)`);
