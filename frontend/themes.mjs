// Dark and high-contrast themes as CSS that the build appends to app.css.
//
// Every template is written once, in light-theme Tailwind utilities. A theme re-points the
// colour variables those utilities read (`--color-slate-700`, ...) under
// `html[data-theme=...]`, so no template needs `dark:` variants. The values come from
// Tailwind's own palette (node_modules/tailwindcss/theme.css), so the themes follow
// Tailwind upgrades. Rules here are unlayered: they win over Tailwind's layered utilities.
import { readFileSync } from "node:fs";

const STEPS = ["50", "100", "200", "300", "400", "500", "600", "700", "800", "900", "950"];
const HUES = ["slate", "red", "rose", "emerald", "amber", "sky"];
// Our brand scale (app.css @theme), mirrored for dark backgrounds.
const BRAND_DARK = {
  50: "#0a3531", 100: "#0d4540", 200: "#115a53", 300: "#17736a",
  500: "#3fb3a5", 600: "#1f8a7e", 700: "#7fd1c6", 800: "#acd8d1", 900: "#d5ebe8",
};

function palette(themeCss) {
  const values = {};
  for (const match of themeCss.matchAll(/--color-([a-z]+)-(\d+):\s*([^;]+);/g)) {
    values[`${match[1]}-${match[2]}`] = match[3].trim();
  }
  return values;
}

function mirrored(values) {
  const lines = [];
  for (const hue of HUES) {
    for (const [index, step] of STEPS.entries()) {
      if (step === "500") continue;
      const opposite = STEPS[STEPS.length - 1 - index];
      lines.push(`--color-${hue}-${step}: ${values[`${hue}-${opposite}`]};`);
    }
  }
  for (const [step, value] of Object.entries(BRAND_DARK)) {
    lines.push(`--color-brand-${step}: ${value};`);
  }
  return lines.join("");
}

function contrast(values) {
  const lines = [];
  for (const step of ["400", "500", "600", "700", "800", "900"]) {
    lines.push(`--color-slate-${step}: #000;`);
  }
  for (const step of ["200", "300"]) lines.push(`--color-slate-${step}: #1f2937;`);
  for (const hue of ["red", "rose", "emerald", "amber", "sky"]) {
    for (const step of ["700", "800", "900"]) lines.push(`--color-${hue}-${step}: ${values[`${hue}-950`]};`);
  }
  lines.push("--color-brand-600: #0a3531;", "--color-brand-700: #062320;");
  return lines.join("");
}

export function themeCss(tailwindThemePath) {
  const values = palette(readFileSync(tailwindThemePath, "utf8"));
  return [
    `html[data-theme=dark]{color-scheme:dark;${mirrored(values)}}`,
    `html[data-theme=dark] .bg-white,html[data-theme=dark] .bg-white\\/90{background-color:${values["slate-900"]}}`,
    `html[data-theme=contrast]{${contrast(values)}}`,
    "html[data-theme=contrast] a{text-decoration:underline}",
    "html[data-theme=contrast] :focus-visible{outline:3px solid #000;outline-offset:2px}",
    "html[data-theme=dark] :focus-visible{outline-color:#7fd1c6}",
    "html[data-density=compact]{font-size:87.5%}",
  ].join("\n");
}
