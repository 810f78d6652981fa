"""Domain-free foundations: database and tenancy, errors, auth subject, jobs, limits.

The kernel never imports `m3crm.modules`; modules plug into it through the small
registries it exposes (permission loader, entitlement loader, run handlers).
"""
