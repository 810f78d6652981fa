"""Plans, tenant subscriptions and usage counters; registers the entitlement loader."""
