"""Global search: a registry of providers that modules fill, queried together."""
