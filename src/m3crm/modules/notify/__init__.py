"""Notifications core (spec Section 2): outbox, templates, providers, inbox, consent."""
