"""The row checks of a snapshot (nulls, key order, references, signs), shared by both readers
so a broken snapshot is refused with the same message whichever way it is read. Each check
reports through the reader's ``fail``, which names the snapshot directory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn, Protocol

import numpy as np
import polars as pl

from arrears.engine.snapshot.format import (
    COLUMNS,
    INSTALMENTS,
    LOANS,
    PAYMENTS,
    PLAN_INSTALMENTS,
    PLANS,
    PRODUCTS,
    WAIVERS,
    file_name,
)
from arrears.kernel.terms import Component

#: The row index column a reader adds to every scanned frame, so a message can name the row.
ROW = "__row"


class Refuser(Protocol):
    """What a check needs of a reader: a way to refuse the snapshot with a message."""

    def fail(self, message: str) -> NoReturn: ...


def _where(row: Mapping[str, Any]) -> str:
    text = f"row {row[ROW]}"
    return f"{text} (loan_id {row['loan_id']})" if "loan_id" in row else text


def _first(frame: pl.DataFrame, condition: pl.Expr) -> dict[str, Any] | None:
    """The first row where ``condition`` holds (null counts as not), or None. The condition
    alone is evaluated over the frame; rows are only gathered when one fails."""
    mask = frame.select(condition).to_series()
    if not mask.any():
        return None
    return frame.row(int(mask.arg_true()[0]), named=True)


def _check_nulls(reader: Refuser, name: str, frame: pl.DataFrame) -> None:
    counts = frame.null_count().row(0, named=True)
    for column in COLUMNS[name]:
        if not column.nullable and counts[column.name]:
            row = _first(frame, pl.col(column.name).is_null())
            assert row is not None
            reader.fail(f"{file_name(name)}: column {column.name}: {_where(row)} is null")


def _check_sign(
    reader: Refuser, name: str, frame: pl.DataFrame, column: str, *, positive: bool
) -> None:
    condition = pl.col(column) <= 0 if positive else pl.col(column) < 0
    row = _first(frame, condition)
    if row is not None:
        wanted = "a positive" if positive else "a non-negative"
        unit = " of minor units" if column.endswith("_minor") else ""
        reader.fail(
            f"{file_name(name)}: column {column}: {_where(row)} is {row[column]}; expected "
            f"{wanted} int{unit}"
        )


def _check_signs(
    reader: Refuser,
    name: str,
    frame: pl.DataFrame,
    columns: Sequence[tuple[str, bool]],
    extra: pl.Expr | None = None,
) -> bool:
    """:func:`_check_sign` for each ``(column, positive)``, in one pass over the frame: one
    select answers whether any row breaks each rule (and ``extra``, when given: returned, for
    the caller's own message), and only a broken rule is looked at again to name its row."""
    rules = [
        (pl.col(column) <= 0 if positive else pl.col(column) < 0).any().alias(f"{i}")
        for i, (column, positive) in enumerate(columns)
    ]
    if extra is not None:
        rules.append(extra.any().alias("extra"))
    found = frame.select(rules).row(0)
    for (column, positive), broken in zip(columns, found, strict=False):
        if broken:
            _check_sign(reader, name, frame, column, positive=positive)
    return extra is not None and bool(found[-1])


def order_problem(
    name: str,
    where: str,
    keys: Sequence[str],
    row: Mapping[str, Any],
    previous: Mapping[str, Any],
    what: str,
) -> str:
    """The one wording of a key-order problem, whichever reader finds it: a duplicate when the
    key equals the previous row's, else out of order in the first key column that differs."""
    if all(row[k] == previous[k] for k in keys):
        detail = "" if len(keys) == 1 else f" ({', '.join(f'{k} {row[k]}' for k in keys)})"
        return f"{file_name(name)}: column {keys[-1]}: {where} is a duplicate {what}{detail}"
    column = next(k for k in keys if row[k] != previous[k])
    return (
        f"{file_name(name)}: column {column}: {where} is out of order; the file must be "
        f"sorted by ({', '.join(keys)})"
    )


def _check_order(
    reader: Refuser, name: str, frame: pl.DataFrame, keys: Sequence[str], what: str
) -> None:
    """Rows strictly ascending by ``keys``; the first row that is not is reported as a
    duplicate (same key as the row before) or out of order (a smaller key). The sort by
    loan_id is what lets a reader fetch one range of loans cheaply. Numeric keys are compared
    with NumPy; a string key only where every earlier key ties (rare), so this stays cheap."""
    if len(frame) < 2:
        return
    bad = np.zeros(len(frame) - 1, dtype=np.bool_)
    tied = np.ones(len(frame) - 1, dtype=np.bool_)
    for key in keys:
        column = frame[key]
        if column.dtype == pl.String:
            rows = np.flatnonzero(tied)
            if len(rows):
                current, previous = column.gather(rows + 1), column.gather(rows)
                bad[rows[(current <= previous).to_numpy()]] = True
            tied[:] = False
            break
        step = np.diff(column.to_physical().to_numpy())
        bad |= tied & (step < 0)
        tied &= step == 0
    bad |= tied
    if bad.any():
        at = int(np.argmax(bad)) + 1
        row = frame.row(at, named=True)
        before = frame.row(at - 1, named=True)
        reader.fail(order_problem(name, _where(row), keys, row, before, what))


def _check_product_known(reader: Refuser, loans: pl.DataFrame, products: pl.DataFrame) -> None:
    row = _first(loans, ~pl.col("product_id").is_in(products["product_id"].implode()))
    if row is not None:
        reader.fail(
            f"{file_name(LOANS)}: column product_id: {_where(row)} refers to unknown "
            f"product_id {row['product_id']} (not in {file_name(PRODUCTS)})"
        )


def _check_owned(reader: Refuser, name: str, frame: pl.DataFrame, loan_ids: pl.Series) -> None:
    """Every row belongs to a loan. Both ``frame`` and ``loan_ids`` are ascending by loan_id
    (checked before), so only the distinct ids are looked up, by binary search."""
    ids = frame["loan_id"].to_numpy()
    if len(ids) == 0:
        return
    firsts = np.flatnonzero(np.concatenate([[True], ids[1:] != ids[:-1]]))
    distinct = ids[firsts]
    known = loan_ids.to_numpy()
    at = np.minimum(np.searchsorted(known, distinct), max(len(known) - 1, 0))
    found = (known[at] == distinct) if len(known) else np.zeros(len(distinct), dtype=bool)
    if not found.all():
        row = frame.row(int(firsts[int(np.argmin(found))]), named=True)
        reader.fail(
            f"{file_name(name)}: column loan_id: {_where(row)} refers to unknown loan_id "
            f"{row['loan_id']} (not in {file_name(LOANS)})"
        )


def check_products(reader: Refuser, frame: pl.DataFrame) -> None:
    _check_nulls(reader, PRODUCTS, frame)
    row = _first(frame, ~pl.col("product_id").is_first_distinct())
    if row is not None:
        reader.fail(
            f"{file_name(PRODUCTS)}: column product_id: {_where(row)} is a duplicate "
            f"product_id ({row['product_id']})"
        )
    _check_sign(reader, PRODUCTS, frame, "tolerance_minor", positive=False)


def check_loans(
    reader: Refuser, frame: pl.DataFrame, products: pl.DataFrame, *, after: int | None = None
) -> None:
    """``after``: the loan_id of the row before the frame's first (the previous chunk's last),
    which the first loan_id must exceed."""
    _check_nulls(reader, LOANS, frame)
    _check_order(reader, LOANS, frame, ["loan_id"], "loan_id")
    if after is not None and len(frame) and frame["loan_id"][0] <= after:
        row = frame.row(0, named=True)
        reader.fail(
            order_problem(LOANS, _where(row), ["loan_id"], row, {"loan_id": after}, "loan_id")
        )
    _check_product_known(reader, frame, products)
    _check_sign(reader, LOANS, frame, "principal_minor", positive=True)


def check_children(
    reader: Refuser, instalments: pl.DataFrame, payments: pl.DataFrame, loan_ids: pl.Series
) -> None:
    _check_nulls(reader, INSTALMENTS, instalments)
    _check_order(reader, INSTALMENTS, instalments, ["loan_id", "seq"], "instalment")
    _check_owned(reader, INSTALMENTS, instalments, loan_ids)
    _check_signs(
        reader, INSTALMENTS, instalments, [("principal_minor", False), ("interest_minor", False)]
    )
    _check_nulls(reader, PAYMENTS, payments)
    _check_order(reader, PAYMENTS, payments, ["loan_id", "value_date", "ref"], "payment")
    _check_owned(reader, PAYMENTS, payments, loan_ids)
    early = pl.col("reversed_on") < pl.col("value_date")
    if _check_signs(reader, PAYMENTS, payments, [("amount_minor", True)], early):
        row = _first(payments, early)
        assert row is not None
        reader.fail(
            f"{file_name(PAYMENTS)}: column reversed_on: {_where(row)} is {row['reversed_on']}, "
            f"before the value date {row['value_date']}"
        )


def _check_plan_known(reader: Refuser, plan_instalments: pl.DataFrame, plans: pl.DataFrame) -> None:
    """Every plan instalment names a plan of its own loan (the pair loan_id, plan_id)."""
    if plan_instalments.is_empty():
        return
    orphans = plan_instalments.join(
        plans.select("loan_id", "plan_id"), on=["loan_id", "plan_id"], how="anti"
    ).sort(ROW)
    if not orphans.is_empty():
        row = orphans.row(0, named=True)
        reader.fail(
            f"{file_name(PLAN_INSTALMENTS)}: column plan_id: {_where(row)} refers to unknown "
            f"plan_id {row['plan_id']} of loan_id {row['loan_id']} (not in {file_name(PLANS)})"
        )


def check_concessions(
    reader: Refuser,
    waivers: pl.DataFrame,
    plans: pl.DataFrame,
    plan_instalments: pl.DataFrame,
    loan_ids: pl.Series,
) -> None:
    """The version 2 files: owned by known loans (and plans), sorted, signs, components."""
    _check_nulls(reader, WAIVERS, waivers)
    _check_order(reader, WAIVERS, waivers, ["loan_id", "effective_on", "ref"], "waiver")
    _check_owned(reader, WAIVERS, waivers, loan_ids)
    _check_sign(reader, WAIVERS, waivers, "amount_minor", positive=True)
    components = [c.value for c in Component]
    row = _first(waivers, ~pl.col("component").is_in(components))
    if row is not None:
        reader.fail(
            f"{file_name(WAIVERS)}: column component: {_where(row)} is {row['component']!r}; "
            f"expected one of {', '.join(components)}"
        )
    _check_nulls(reader, PLANS, plans)
    _check_order(reader, PLANS, plans, ["loan_id", "plan_id"], "plan")
    _check_owned(reader, PLANS, plans, loan_ids)
    _check_sign(reader, PLANS, plans, "grace_days", positive=False)
    _check_sign(reader, PLANS, plans, "tolerance_minor", positive=False)
    _check_nulls(reader, PLAN_INSTALMENTS, plan_instalments)
    _check_order(
        reader,
        PLAN_INSTALMENTS,
        plan_instalments,
        ["loan_id", "plan_id", "seq"],
        "plan instalment",
    )
    _check_owned(reader, PLAN_INSTALMENTS, plan_instalments, loan_ids)
    _check_plan_known(reader, plan_instalments, plans)
    _check_sign(reader, PLAN_INSTALMENTS, plan_instalments, "amount_minor", positive=True)


def check_after(
    reader: Refuser,
    name: str,
    frame: pl.DataFrame,
    previous: Mapping[str, Any] | None,
    keys: Sequence[str],
    what: str,
) -> None:
    """The frame's first row comes strictly after ``previous`` (the row before it in the file,
    read with an earlier chunk) in ``keys`` order: with :func:`check_children`'s order check
    within each chunk, this proves the whole file's order."""
    if previous is None or frame.is_empty():
        return
    row = frame.row(0, named=True)
    for key in keys:
        if row[key] != previous[key]:
            if row[key] > previous[key]:
                return
            break
    reader.fail(order_problem(name, _where(row), keys, row, previous, what))
