import psycopg

from sagawatch.migrations import apply_migrations, discover


def test_app_and_audit_schemas_apply_once_and_rerun_as_no_ops(fresh_db_url: str) -> None:
    first = apply_migrations(fresh_db_url, "instrumented_app.schema")
    second = apply_migrations(fresh_db_url, "instrumented_app.schema")
    assert first == [m.name for m in discover("instrumented_app.schema")]
    assert second == []
    with psycopg.connect(fresh_db_url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    assert {"saga", "saga_step", "schema_migrations"} <= tables


def test_saga_rows_refuse_a_status_outside_the_contract(fresh_db_url: str) -> None:
    apply_migrations(fresh_db_url, "instrumented_app.schema")
    with psycopg.connect(fresh_db_url) as conn:
        try:
            conn.execute(
                "INSERT INTO saga (id, saga_type, correlation_id, status)"
                " VALUES ('s', 'customer', 'c', 'DONE')"
            )
        except psycopg.errors.CheckViolation:
            return
    raise AssertionError("a saga status outside the contract was accepted")
