"""Contacts & companies (spec Section 3): people and organisations a tenant works with,
their channels and consent, dedupe and merge, segments, import and export."""
