// Builds the web assets into src/m3crm/web/static/dist with content-hashed names and a
// manifest.json mapping logical names ("app.css", "htmx.js", "alpine.js") to files.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "m3crm", "web", "static", "dist");
const tmpCss = join(here, "node_modules", ".app.css");

execFileSync(
  join(here, "node_modules", ".bin", "tailwindcss"),
  ["-i", join(here, "src", "app.css"), "-o", tmpCss, "--minify"],
  { stdio: "inherit" },
);

const assets = {
  "app.css": tmpCss,
  "htmx.js": join(here, "node_modules", "htmx.org", "dist", "htmx.min.js"),
  "alpine.js": join(here, "node_modules", "alpinejs", "dist", "cdn.min.js"),
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const manifest = {};
for (const [name, source] of Object.entries(assets)) {
  const body = readFileSync(source);
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
  const [stem, ext] = name.split(".");
  const file = `${stem}.${hash}.${ext}`;
  writeFileSync(join(out, file), body);
  manifest[name] = file;
}
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log("assets:", manifest);
