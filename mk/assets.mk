# Web assets and translation catalogs; each step reruns only when its inputs changed.
NODE_STAMP := frontend/node_modules/.stamp
MANIFEST := src/m3crm/web/static/dist/manifest.json
TEMPLATES := $(shell find src/m3crm -name '*.html' 2>/dev/null)
PO_FILES := $(wildcard src/m3crm/locale/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: assets locales

# `npm install` (not `npm ci`): npm 11 rejects this lock in `ci` over optional platform
# packages of tailwind; `install` still resolves exactly the locked versions.
$(NODE_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm install --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

$(MANIFEST): $(NODE_STAMP) frontend/build.mjs $(wildcard frontend/src/*) $(TEMPLATES)
	node frontend/build.mjs

assets: $(MANIFEST)

%.mo: %.po | $(STAMP)
	$(VENV)/bin/pybabel compile --statistics -i $< -o $@

locales: $(MO_FILES)
