"""Reconciler: drift between Aurora and each SaaS."""
