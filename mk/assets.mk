# Web assets and translation catalogs, included from the root Makefile (which defines VENV
# and STAMP). Every step is a file target with real prerequisites, so a second `make assets
# locales` with nothing changed does nothing.

NODE_STAMP := frontend/node_modules/.stamp
MANIFEST := src/m3crm/web/static/dist/manifest.json
FRONTEND_SRC := $(shell find frontend/src -type f 2>/dev/null)
TEMPLATES := $(shell find src/m3crm -path '*/templates/*' -name '*.html' 2>/dev/null)
PO_FILES := $(wildcard src/m3crm/locale/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: assets locales

# `npm ci` installs exactly the lock and never rewrites it. Tailwind is pinned to a release
# whose platform binaries are all published, so the lock is complete for every OS.
$(NODE_STAMP): frontend/package.json frontend/package-lock.json | $(STAMP)
	cd frontend && $(NODE_PATH_PREFIX) $(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

# Templates are prerequisites because Tailwind emits only the classes they use.
$(MANIFEST): $(NODE_STAMP) frontend/build.mjs frontend/themes.mjs $(FRONTEND_SRC) $(TEMPLATES)
	$(NODE_PATH_PREFIX) $(NODE) frontend/build.mjs

assets: $(MANIFEST)

# One .mo per .po (same result as `pybabel compile -d src/m3crm/locale -D messages`, but a
# catalog is recompiled only when its own .po changed).
src/m3crm/locale/%/LC_MESSAGES/messages.mo: src/m3crm/locale/%/LC_MESSAGES/messages.po | $(STAMP)
	$(VENV)/bin/pybabel compile --statistics -D messages -i $< -o $@

locales: $(MO_FILES)

# Re-extract every `_()`/`N_()` string into messages.pot and merge it into each catalog;
# translate the new (empty) entries of ar/messages.po, then `make locales`. Run by hand.
.PHONY: messages
messages: | $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg --omit-header --no-location -o src/m3crm/locale/messages.pot .
	$(VENV)/bin/pybabel update -i src/m3crm/locale/messages.pot -d src/m3crm/locale -D messages --no-fuzzy-matching --ignore-pot-creation-date
