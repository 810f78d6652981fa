"""Provider adapters behind the Protocols of `providers.base` (ARCHITECTURE §6)."""
