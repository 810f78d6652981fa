"""Audit trail API and viewer (spec Section 18): search, diff, streamed export."""
