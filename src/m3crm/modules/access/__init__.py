"""Roles and their permission codes; registers the kernel's permission loader."""
