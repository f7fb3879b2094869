"""Aurora side of the member merge saga: customer rows, merge claims, runbook entries, the audit log.

Tables of migration 0020 (``customer_merge``, ``saga_runbook``, ``saga_audit_log``)
and ``customer`` of 0002/0003. Each method is one short transaction on the
runner's autocommit connection, and idempotent for one saga id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb


class MergeRefused(Exception):
    """The merge cannot run as asked (a customer missing, inactive, or already in another merge)."""

    error_code = "MERGE_REFUSED"
    definite = True


@dataclass(frozen=True)
class CustomerRow:
    cust_no: str
    status: str
    family_name: str
    given_name: str
    email: str
    phone: str | None

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}"


@dataclass(frozen=True)
class RunbookEntry:
    saga_id: str
    saga_type: str
    failed_step: str | None
    error: str | None
    done: list[dict[str, Any]]
    remaining: list[dict[str, Any]]
    commands: dict[str, list[str]]
    diff: list[dict[str, Any]]


class MergeStore:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def customers(self, cust_nos: list[str]) -> dict[str, CustomerRow]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                "SELECT cust_no, status, family_name, given_name, email, phone FROM customer"
                " WHERE cust_no = ANY(%s)",
                (cust_nos,),
            )
            return {row["cust_no"]: CustomerRow(**row) for row in cur.fetchall()}

    def claim(self, losers: list[str], target: str, saga_id: str) -> None:
        """Claim each loser for this merge; a loser claimed by another saga refuses the merge."""
        with self.conn.transaction():
            for loser in losers:
                row = self.conn.execute(
                    "INSERT INTO customer_merge (loser_cust_no, target_cust_no, saga_id, state)"
                    " VALUES (%s, %s, %s, 'CLAIMED')"
                    " ON CONFLICT (loser_cust_no) DO UPDATE SET updated_at = now()"
                    " WHERE customer_merge.saga_id = EXCLUDED.saga_id RETURNING loser_cust_no",
                    (loser, target, saga_id),
                ).fetchone()
                if row is None:
                    raise MergeRefused(f"cust_no {loser} is already merged or being merged by another saga")

    def release(self, saga_id: str) -> None:
        """The claim's compensation: this saga's unfinished claims go (twice changes nothing more)."""
        self.conn.execute("DELETE FROM customer_merge WHERE saga_id = %s AND state = 'CLAIMED'", (saga_id,))

    def retire(self, losers: list[str], saga_id: str) -> int:
        """The losers' rows are DELETED and their claims MERGED; the number of rows changed now."""
        with self.conn.transaction():
            changed = self.conn.execute(
                "UPDATE customer SET status = 'DELETED', saga_id = %s, updated_at = now()"
                " WHERE cust_no = ANY(%s) AND status <> 'DELETED'",
                (saga_id, losers),
            ).rowcount
            self.conn.execute(
                "UPDATE customer_merge SET state = 'MERGED', updated_at = now() WHERE saga_id = %s",
                (saga_id,),
            )
        return changed

    def open_runbook(self, entry: RunbookEntry) -> None:
        self.conn.execute(
            "INSERT INTO saga_runbook (saga_id, saga_type, status, failed_step, error, done, remaining,"
            " commands, diff) VALUES (%s, %s, 'OPEN', %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (saga_id) DO UPDATE SET status = 'OPEN', failed_step = EXCLUDED.failed_step,"
            " error = EXCLUDED.error, done = EXCLUDED.done, remaining = EXCLUDED.remaining,"
            " commands = EXCLUDED.commands, diff = EXCLUDED.diff, updated_at = now(), resolved_at = NULL",
            (
                entry.saga_id,
                entry.saga_type,
                entry.failed_step,
                entry.error,
                Jsonb(entry.done),
                Jsonb(entry.remaining),
                Jsonb(entry.commands),
                Jsonb(entry.diff),
            ),
        )

    def resolve_runbook(self, saga_id: str) -> bool:
        """An open entry is RESOLVED (the saga finished); False when there was none open."""
        return (
            self.conn.execute(
                "UPDATE saga_runbook SET status = 'RESOLVED', resolved_at = now(), updated_at = now()"
                " WHERE saga_id = %s AND status = 'OPEN'",
                (saga_id,),
            ).rowcount
            > 0
        )

    def runbook(self, saga_id: str) -> dict[str, Any] | None:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute("SELECT * FROM saga_runbook WHERE saga_id = %s", (saga_id,))
            return cur.fetchone()

    def audit(
        self, *, saga_id: str, saga_type: str, correlation_id: str, event: str, status: str, detail: Any
    ) -> None:
        self.conn.execute(
            "INSERT INTO saga_audit_log (saga_id, saga_type, correlation_id, event, status, detail)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (saga_id, saga_type, correlation_id, event, status, Jsonb(detail)),
        )

    def audit_entries(self, saga_id: str) -> list[dict[str, Any]]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                "SELECT event, status, detail, at FROM saga_audit_log WHERE saga_id = %s ORDER BY id",
                (saga_id,),
            )
            return cur.fetchall()
