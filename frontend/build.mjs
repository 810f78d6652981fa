// Builds the web assets into src/m3crm/web/static/dist with content-hashed file names and a
// manifest.json mapping each logical name ("app.css", "htmx.js", "alpine.js") to its file.
//
// Invariants: the manifest is written last and the new dist/ replaces the old one in a single
// rename, so a failed build never leaves a manifest pointing at missing files. The output is
// deterministic: the same inputs give the same names, so unchanged files keep their cache.
// To ship another library, add its minified dist file to VENDOR below.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { themeCss } from "./themes.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const out = join(here, "..", "src", "m3crm", "web", "static", "dist");
const staging = `${out}.tmp`;

const VENDOR = {
  "htmx.js": join(modules, "htmx.org", "dist", "htmx.min.js"),
  "alpine.js": join(modules, "alpinejs", "dist", "cdn.min.js"),
  "alpine-focus.js": join(modules, "@alpinejs", "focus", "dist", "cdn.min.js"),
};
// Our own scripts, shipped as written (small; no bundler needed).
const OWN = {
  "shell.js": join(here, "src", "shell.js"),
};

rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });

const css = join(staging, "app.css");
execFileSync(
  join(modules, ".bin", "tailwindcss"),
  ["--input", join(here, "src", "app.css"), "--output", css, "--minify"],
  { stdio: "inherit", cwd: here },
);

const manifest = {};
function emit(name, body) {
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
  const ext = extname(name);
  const file = `${name.slice(0, -ext.length)}.${hash}${ext}`;
  writeFileSync(join(staging, file), body);
  manifest[name] = file;
}

const themes = themeCss(join(modules, "tailwindcss", "theme.css"));
emit("app.css", Buffer.concat([readFileSync(css), Buffer.from(`\n${themes}\n`)]));
rmSync(css);
for (const [name, source] of Object.entries({ ...VENDOR, ...OWN })) {
  emit(name, readFileSync(source));
}
writeFileSync(join(staging, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);

rmSync(out, { recursive: true, force: true });
renameSync(staging, out);
console.log("assets:", manifest);
