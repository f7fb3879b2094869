"""The reference app: every pattern of DESIGN.md as real Lambda handlers, runnable locally."""
