"""``Loan.revision``: a per-loan counter the database bumps on every write that can change the
loan's computed state — the loan itself, its product, and its instalments, payments, waivers,
repayment plans and plan instalments.

Triggers, not application code, so every write path counts (services, bulk imports, raw SQL,
the admin). Each write bumps only its own loans' rows (no global hot row: payment intake on
PostgreSQL stays concurrent across loans); a product update bumps every loan of the product.
SQLite has only row triggers; PostgreSQL's are per statement with transition tables, so a bulk
write bumps each loan it touched once.
The counter only grows: an update of the loan that would keep or lower it (a stale ``save()``)
is raised past the old value, so a revision never comes back to one a stored state was
computed at.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

#: Tables whose rows carry ``loan_id`` directly.
CHILDREN = ("ledger_instalment", "ledger_payment", "ledger_waiver", "ledger_repaymentplan")
PLAN_INSTALMENT = "ledger_planinstalment"
BUMP = "UPDATE ledger_loan SET revision = revision + 1"


def _sqlite() -> list[str]:
    sql: list[str] = []
    for table in CHILDREN:
        sql += [
            f"CREATE TRIGGER {table}_rev_ins AFTER INSERT ON {table} "
            f"BEGIN {BUMP} WHERE id = NEW.loan_id; END",
            f"CREATE TRIGGER {table}_rev_upd AFTER UPDATE ON {table} "
            f"BEGIN {BUMP} WHERE id IN (OLD.loan_id, NEW.loan_id); END",
            f"CREATE TRIGGER {table}_rev_del AFTER DELETE ON {table} "
            f"BEGIN {BUMP} WHERE id = OLD.loan_id; END",
        ]
    plan = "SELECT loan_id FROM ledger_repaymentplan WHERE id IN"
    t = PLAN_INSTALMENT
    sql += [
        f"CREATE TRIGGER {t}_rev_ins AFTER INSERT ON {t} "
        f"BEGIN {BUMP} WHERE id IN ({plan} (NEW.plan_id)); END",
        f"CREATE TRIGGER {t}_rev_upd AFTER UPDATE ON {t} "
        f"BEGIN {BUMP} WHERE id IN ({plan} (OLD.plan_id, NEW.plan_id)); END",
        f"CREATE TRIGGER {t}_rev_del AFTER DELETE ON {t} "
        f"BEGIN {BUMP} WHERE id IN ({plan} (OLD.plan_id)); END",
        # the loan itself: any update that does not raise the revision raises it past the old
        # one (the inner UPDATE raises it, so the WHEN stops it firing again)
        "CREATE TRIGGER ledger_loan_rev_upd AFTER UPDATE ON ledger_loan "
        "WHEN NEW.revision <= OLD.revision "
        "BEGIN UPDATE ledger_loan SET revision = OLD.revision + 1 WHERE id = NEW.id; END",
        "CREATE TRIGGER ledger_product_rev_upd AFTER UPDATE ON ledger_product "
        f"BEGIN {BUMP} WHERE product_id IN (OLD.id, NEW.id); END",
    ]
    return sql


def _sqlite_drop() -> list[str]:
    names = [f"{t}_rev_{op}" for t in (*CHILDREN, PLAN_INSTALMENT) for op in ("ins", "upd", "del")]
    names += ["ledger_loan_rev_upd", "ledger_product_rev_upd"]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


#: PostgreSQL: per statement, with transition tables (one UPDATE of the loans a statement
#: touched, however many rows it wrote: a ``COPY`` of a million payments bumps each loan once).
PG_EVENTS = {
    "ins": ("INSERT", "REFERENCING NEW TABLE AS new_rows"),
    "upd": ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "del": ("DELETE", "REFERENCING OLD TABLE AS old_rows"),
}
PG_ROWS = {"ins": ("new_rows",), "upd": ("old_rows", "new_rows"), "del": ("old_rows",)}


def _pg_function(name: str, loans: str) -> str:
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {BUMP} WHERE id IN ({loans}); RETURN NULL; END $$"
    )


def _postgresql() -> list[str]:
    sql: list[str] = []
    for op, rows in PG_ROWS.items():
        direct = " UNION ".join(f"SELECT loan_id FROM {table}" for table in rows)
        via_plan = " UNION ".join(
            f"SELECT r.loan_id FROM {table} t JOIN ledger_repaymentplan r ON r.id = t.plan_id"
            for table in rows
        )
        sql += [
            _pg_function(f"ledger_loan_rev_child_{op}", direct),
            _pg_function(f"ledger_loan_rev_plan_instalment_{op}", via_plan),
        ]
    sql += [
        """CREATE FUNCTION ledger_loan_rev_self() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.revision <= OLD.revision THEN NEW.revision := OLD.revision + 1; END IF;
  RETURN NEW;
END $$""",
        f"""CREATE FUNCTION ledger_loan_rev_product() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {BUMP} WHERE product_id IN (OLD.id, NEW.id);
  RETURN NULL;
END $$""",
        f"""CREATE FUNCTION ledger_loan_rev_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {BUMP};
  RETURN NULL;
END $$""",
    ]
    for table in (*CHILDREN, PLAN_INSTALMENT):
        kind = "plan_instalment" if table == PLAN_INSTALMENT else "child"
        for op, (event, referencing) in PG_EVENTS.items():
            sql.append(
                f"CREATE TRIGGER {table}_rev_{op} AFTER {event} ON {table} {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION ledger_loan_rev_{kind}_{op}()"
            )
        # TRUNCATE fires no row trigger: it changes (potentially) every loan
        sql.append(
            f"CREATE TRIGGER {table}_rev_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_loan_rev_all()"
        )
    sql += [
        "CREATE TRIGGER ledger_loan_rev BEFORE UPDATE ON ledger_loan "
        "FOR EACH ROW EXECUTE FUNCTION ledger_loan_rev_self()",
        "CREATE TRIGGER ledger_product_rev AFTER UPDATE ON ledger_product "
        "FOR EACH ROW EXECUTE FUNCTION ledger_loan_rev_product()",
    ]
    return sql


def _postgresql_drop() -> list[str]:
    sql = [
        f"DROP TRIGGER IF EXISTS {t}_rev_{op} ON {t}"
        for t in (*CHILDREN, PLAN_INSTALMENT)
        for op in (*PG_EVENTS, "truncate")
    ]
    sql += [
        "DROP TRIGGER IF EXISTS ledger_loan_rev ON ledger_loan",
        "DROP TRIGGER IF EXISTS ledger_product_rev ON ledger_product",
    ]
    functions = [f"{kind}_{op}" for kind in ("child", "plan_instalment") for op in PG_ROWS]
    functions += ["self", "product", "all"]
    return sql + [f"DROP FUNCTION IF EXISTS ledger_loan_rev_{name}()" for name in functions]


STATEMENTS = {"sqlite": (_sqlite, _sqlite_drop), "postgresql": (_postgresql, _postgresql_drop)}


def _run(schema_editor: Any, forward: bool) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise NotImplementedError(f"no revision triggers for {vendor}: the daily rerun needs them")
    create, drop = STATEMENTS[vendor]
    for statement in create() if forward else drop():
        schema_editor.execute(statement, params=None)


def create_triggers(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, forward=True)


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_borrower_email_address")]

    operations = [
        migrations.AddField(
            model_name="loan",
            name="revision",
            field=models.BigIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
