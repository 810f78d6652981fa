"""Tenants and users: the rows every request is authenticated against."""
