"""Database access: models base, engines, tenant-scoped sessions, repositories."""
