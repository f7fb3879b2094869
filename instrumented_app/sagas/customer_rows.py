"""The customer saga's Aurora step: the ``customer`` row, created PENDING, activated last.

The row remembers the saga that made it (``saga_id``), so a resumed saga finds
its own row again while a second saga for the same ``cust_no`` is refused; a
row marked ``DELETED`` by an earlier compensation may be created anew.
"""

from __future__ import annotations

from typing import Any

import psycopg

from instrumented_app.sagas.customer_input import NewCustomer


class CustomerExists(Exception):
    """The cust_no is taken by a customer another saga created: a definite refusal (409)."""

    error_code = "CUSTOMER_EXISTS"
    definite = True

    def __init__(self, cust_no: str) -> None:
        super().__init__(f"cust_no {cust_no} already exists")
        self.cust_no = cust_no


class CustomerRows:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def insert_pending(self, customer: NewCustomer, saga_id: str) -> None:
        """Create the PENDING row for ``saga_id`` (again, if it is already this saga's: idempotent)."""
        with self.conn.transaction():
            row = self.conn.execute(
                "INSERT INTO customer (cust_no, family_name, given_name, email, phone, status, saga_id)"
                " VALUES (%s, %s, %s, %s, %s, 'PENDING', %s)"
                " ON CONFLICT (cust_no) DO UPDATE SET family_name = EXCLUDED.family_name,"
                "   given_name = EXCLUDED.given_name, email = EXCLUDED.email, phone = EXCLUDED.phone,"
                "   status = 'PENDING', saga_id = EXCLUDED.saga_id, updated_at = now()"
                " WHERE customer.status = 'DELETED' OR customer.saga_id = EXCLUDED.saga_id"
                " RETURNING cust_no",
                (
                    customer.cust_no,
                    customer.name.family,
                    customer.name.given,
                    customer.email,
                    customer.phone,
                    saga_id,
                ),
            ).fetchone()
        if row is None:
            raise CustomerExists(customer.cust_no)

    def activate(self, cust_no: str, saga_id: str) -> None:
        with self.conn.transaction():
            self.conn.execute(
                "UPDATE customer SET status = 'ACTIVE', updated_at = now()"
                " WHERE cust_no = %s AND saga_id = %s AND status <> 'ACTIVE'",
                (cust_no, saga_id),
            )

    def mark_deleted(self, cust_no: str, saga_id: str) -> None:
        """The compensation: only this saga's row, and doing it twice changes nothing more."""
        with self.conn.transaction():
            self.conn.execute(
                "UPDATE customer SET status = 'DELETED', updated_at = now()"
                " WHERE cust_no = %s AND saga_id = %s AND status <> 'DELETED'",
                (cust_no, saga_id),
            )
