# Placeholder until the asset build lands.
.PHONY: assets locales
assets:
locales:
