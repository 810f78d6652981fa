// The signed-in shell's behaviour: navigation collapse, the right drawer, global search
// (`/`) and the command palette (Ctrl/⌘+K), all keyboard-first. Loaded before Alpine
// (both `defer`), so the components exist when Alpine starts.
//
// Search results come from the server as HTML (`/search/results`), whose options carry
// `role="option"` and `data-href`; the palette's commands are JSON rendered into the page
// (`#shell-commands`), already filtered by the user's permissions and plan.

const NAV_KEY = "m3crm.nav.collapsed";

// Same folding as the server's kernel/text.py, for matching typed Arabic in the palette.
const FOLD_FROM = "أإآٱىةؤئ٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹";
const FOLD_TO = "اااايهوي01234567890123456789";
const REMOVED = /[\u064B-\u065F\u0670\u0640]/g;

function fold(text) {
  let out = "";
  for (const ch of text.replace(REMOVED, "")) {
    const at = FOLD_FROM.indexOf(ch);
    out += at >= 0 ? FOLD_TO[at] : ch;
  }
  return out.toLowerCase();
}

function typing(event) {
  const el = event.target;
  return el instanceof HTMLElement &&
    (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
}

// Keyboard movement through a list of `[role=option]` elements tied to an input by
// `aria-activedescendant`.
function listbox(input, options, index) {
  options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
  const active = options[index];
  if (active) {
    input.setAttribute("aria-activedescendant", active.id);
    active.scrollIntoView({ block: "nearest" });
  } else {
    input.removeAttribute("aria-activedescendant");
  }
}

document.addEventListener("alpine:init", () => {
  const Alpine = window.Alpine;

  Alpine.data("shell", () => ({
    collapsed: localStorage.getItem(NAV_KEY) === "1",
    mobileNav: false,
    drawer: false,
    search: false,
    palette: false,
    pendingG: false,
    returnFocus: null,

    toggleNav() {
      this.collapsed = !this.collapsed;
      localStorage.setItem(NAV_KEY, this.collapsed ? "1" : "0");
    },
    remember() {
      this.returnFocus = document.activeElement;
    },
    restore() {
      const target = this.returnFocus;
      this.returnFocus = null;
      if (target && typeof target.focus === "function") this.$nextTick(() => target.focus());
    },
    openSearch() {
      this.closeAll(false);
      this.remember();
      this.search = true;
      this.$nextTick(() => document.getElementById("search-input")?.focus());
    },
    openPalette() {
      this.closeAll(false);
      this.remember();
      this.palette = true;
      this.$nextTick(() => document.getElementById("palette-input")?.focus());
    },
    openDrawer() {
      this.closeAll(false);
      this.remember();
      this.drawer = true;
      this.$nextTick(() => {
        const panel = document.getElementById("drawer-panel");
        window.htmx?.trigger(panel, "drawer-open");
        document.getElementById("drawer-close")?.focus();
      });
    },
    closeAll(restore = true) {
      const wasOpen = this.search || this.palette || this.drawer || this.mobileNav;
      this.search = this.palette = this.drawer = this.mobileNav = false;
      if (restore && wasOpen) this.restore();
    },
    onKey(event) {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
        event.preventDefault();
        this.palette ? this.closeAll() : this.openPalette();
        return;
      }
      if (event.key === "Escape") {
        this.closeAll();
        return;
      }
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "/") {
        event.preventDefault();
        this.openSearch();
      } else if (event.key === "[") {
        this.toggleNav();
      } else if (this.pendingG && event.key === "n") {
        this.openDrawer();
      }
      this.pendingG = event.key === "g";
    },
  }));

  Alpine.data("palette", () => ({
    query: "",
    active: 0,
    commands: JSON.parse(document.getElementById("shell-commands")?.textContent || "[]"),

    get matches() {
      const words = fold(this.query).split(/\s+/).filter(Boolean);
      return this.commands.filter((c) => words.every((w) => fold(`${c.label} ${c.group}`).includes(w)));
    },
    reset() {
      this.query = "";
      this.active = 0;
    },
    move(delta) {
      const count = this.matches.length;
      if (count) this.active = (this.active + delta + count) % count;
      this.$nextTick(() => document.getElementById(`palette-option-${this.active}`)?.scrollIntoView({ block: "nearest" }));
    },
    run(index = this.active) {
      const command = this.matches[index];
      if (command) window.location.assign(command.path);
    },
  }));

  Alpine.data("globalSearch", () => ({
    active: -1,
    announce: "",

    options() {
      return Array.from(document.querySelectorAll("#search-results [role=option]"));
    },
    refreshed() {
      const options = this.options();
      this.active = options.length ? 0 : -1;
      listbox(this.$refs.input, options, this.active);
      this.announce = document.getElementById("search-results")?.dataset.summary || "";
    },
    move(delta) {
      const options = this.options();
      if (!options.length) return;
      this.active = (this.active + delta + options.length) % options.length;
      listbox(this.$refs.input, options, this.active);
    },
    open() {
      const option = this.options()[this.active];
      if (option?.dataset.href) window.location.assign(option.dataset.href);
    },
  }));
});
