"""Audit-store tables of the alarms package (applied with ``apply_migrations(url, "alarms.schema")``)."""
