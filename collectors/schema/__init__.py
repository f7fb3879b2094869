"""Audit-store migrations."""
