"""Aurora migrations owned by the reference app (saga state, customers)."""
