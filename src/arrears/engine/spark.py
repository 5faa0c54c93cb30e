"""The daily run on Spark: the very chunk function of the Polars runner, mapped over partitions.

Each loan travels as one row carrying its instalments and payments (arrays of structs), so a
partition holds whole loans and :func:`~arrears.engine.chunk.compute_chunk` needs nothing from
any other partition; the small products table rides along in the closure as Arrow IPC bytes.
Results and errors come back in one Arrow stream (an error row has ``error_code`` set) and are
split on the driver, so the engine runs exactly once per loan. Every hop is Arrow: Spark
``DecimalType`` ↔ Arrow ``decimal128`` ↔ Polars ``Decimal`` and ``DateType`` ↔ ``date32``,
so rates and multipliers reach the engine digit for digit — never through a float.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa

from arrears.engine.chunk import ERROR_SCHEMA, RESULT_SCHEMA, compute_chunk
from arrears.engine.runner import RunStats, write_run_record

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

TABLES = ("products", "loans", "instalments", "payments")
#: The nested columns that carry a loan's instalments and payments through the shuffle.
INSTALMENTS = "_instalments"
PAYMENTS = "_payments"

#: Output of the mapped function: the result columns plus the error of a loan that failed.
_ARROW_TYPES: dict[type[pl.DataType], pa.DataType] = {
    pl.Int64: pa.int64(),
    pl.String: pa.string(),
    pl.Date: pa.date32(),
}
OUTPUT_SCHEMA = pa.schema(
    [pa.field(name, _ARROW_TYPES[type(dtype)]) for name, dtype in RESULT_SCHEMA.items()]
    + [pa.field("error_code", pa.string()), pa.field("error_message", pa.string())]
)

#: Session settings: Arrow transfer, no UI, small memory, reused Python workers (each keeps its
#: loaded compiled replay; numba's on-disk cache spares a recompile in new workers).
SESSION_CONF = {
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.python.worker.reuse": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "1g",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.session.timeZone": "UTC",
}


def spark_session(master: str = "local[2]", conf: Mapping[str, str] | None = None) -> SparkSession:
    """The active session, or a new one for ``master`` with :data:`SESSION_CONF` and ``conf``.

    An active session is reused untouched (its memory, partitions and JVM flags win, and
    ``master`` is ignored): start one yourself to run a large portfolio with more memory.
    On a local master the Python workers run this interpreter (Spark would otherwise start
    whatever ``python3`` is on the PATH, without the engine's packages) and the driver binds
    to loopback; on a cluster the deployment sets ``PYSPARK_PYTHON``.
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(master).appName("arrears-daily")
    for key, value in {**SESSION_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    return session


def colocated(spark: SparkSession, snapshot_dir: Path, partitions: int | None = None) -> DataFrame:
    """One row per loan with its instalments and payments nested, hash-partitioned by loan_id.

    A loan without instalments or payments gets a null array (left joins); instalments and
    payments of loans missing from ``loans`` are dropped, as ``compute_chunk`` would ignore them.
    """
    from pyspark.sql import functions as F

    def read(name: str) -> DataFrame:
        return spark.read.parquet(str(snapshot_dir / f"{name}.parquet"))

    def nest(frame: DataFrame, alias: str) -> DataFrame:
        fields = [c for c in frame.columns if c != "loan_id"]
        return frame.groupBy("loan_id").agg(F.collect_list(F.struct(*fields)).alias(alias))

    joined = (
        read("loans")
        .join(nest(read("instalments"), INSTALMENTS), "loan_id", "left")
        .join(nest(read("payments"), PAYMENTS), "loan_id", "left")
    )
    if partitions is None:
        return joined.repartition("loan_id")
    return joined.repartition(partitions, "loan_id")


def flat_frames(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The loans, instalments and payments frames of a batch of co-located rows."""

    def flatten(column: str) -> pl.DataFrame:
        return (
            frame.select("loan_id", column)
            .explode(column)
            .filter(pl.col(column).is_not_null())
            .unnest(column)
        )

    loans = frame.drop(INSTALMENTS, PAYMENTS)
    return loans, flatten(INSTALMENTS), flatten(PAYMENTS)


def _output_batches(results: pl.DataFrame, errors: pl.DataFrame) -> list[pa.RecordBatch]:
    """Results and errors as one table of :data:`OUTPUT_SCHEMA` (error columns null if fine)."""
    good = results.select(list(RESULT_SCHEMA)).with_columns(
        pl.lit(None, pl.String).alias("error_code"),
        pl.lit(None, pl.String).alias("error_message"),
    )
    bad = errors.select(
        "loan_id",
        "ref",
        pl.col("code").alias("error_code"),
        pl.col("message").alias("error_message"),
    )
    both = pl.concat([good, bad], how="diagonal_relaxed").select(OUTPUT_SCHEMA.names)
    batches: list[pa.RecordBatch] = both.to_arrow().cast(OUTPUT_SCHEMA).to_batches()
    return batches


def chunk_mapper(
    products_ipc: bytes, as_of: date
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function ``mapInArrow`` runs on each partition: one ``compute_chunk`` per batch.

    Batches hold whole loans (see :func:`colocated`), so chunking by batch changes nothing but
    memory use; the product terms are parsed once per partition.
    """

    def run_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        products = pl.read_ipc(io.BytesIO(products_ipc))
        for batch in batches:
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            if frame.height == 0:
                continue
            loans, instalments, payments = flat_frames(frame)
            yield from _output_batches(
                *compute_chunk(products, loans, instalments, payments, as_of)
            )

    return run_partition


def _spark_schema() -> str:
    """:data:`OUTPUT_SCHEMA` as a Spark DDL string."""
    names = {pa.int64(): "BIGINT", pa.string(): "STRING", pa.date32(): "DATE"}
    return ", ".join(f"`{f.name}` {names[f.type]}" for f in OUTPUT_SCHEMA)


def split_output(table: pa.Table) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(results, errors) from the mapped output, each sorted by loan_id, in the chunk schemas."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    failed = pl.col("error_code").is_not_null()
    results = (
        frame.filter(~failed)
        .select(list(RESULT_SCHEMA))
        .cast(pl.Schema(RESULT_SCHEMA))
        .sort("loan_id")
    )
    errors = (
        frame.filter(failed)
        .select(
            "loan_id",
            "ref",
            pl.col("error_code").alias("code"),
            pl.col("error_message").alias("message"),
        )
        .cast(pl.Schema(ERROR_SCHEMA))
        .sort("loan_id")
    )
    return results, errors


def run_snapshot_spark(
    snapshot_dir: Path,
    out_dir: Path,
    as_of: date,
    *,
    master: str = "local[2]",
    partitions: int | None = None,
) -> RunStats:
    """Every loan of a snapshot as of ``as_of``, computed on Spark.

    Writes ``out_dir/loan_state.parquet`` (a row per loan that had started, sorted by loan_id)
    and ``out_dir/errors.parquet`` (a row per loan that could not be computed) — the rows
    ``compute_chunk`` gives for the whole snapshot — and ``out_dir/run.json``, exactly as the
    Polars runner does, and returns the same :class:`~arrears.engine.runner.RunStats` (its
    ``line`` is what ``run-day`` prints). Both Parquet files are written on the driver from
    the collected Arrow output (one short row per loan: mind ``spark.driver.memory`` and
    ``spark.driver.maxResultSize`` for tens of millions of loans), each under a temporary
    name renamed into place, so a reader never sees half a file. Spark reads lazily, so
    ``read`` is the driver's setup and ``compute`` the whole distributed job.
    """
    for table in TABLES:
        if not (snapshot_dir / f"{table}.parquet").exists():
            raise FileNotFoundError(f"snapshot {snapshot_dir} has no {table}.parquet")
    stats = RunStats()
    tick = time.perf_counter()
    spark = spark_session(master)
    products = pl.from_arrow(spark.read.parquet(str(snapshot_dir / "products.parquet")).toArrow())
    assert isinstance(products, pl.DataFrame)
    buffer = io.BytesIO()
    products.write_ipc(buffer)
    mapped = colocated(spark, snapshot_dir, partitions).mapInArrow(
        chunk_mapper(buffer.getvalue(), as_of), _spark_schema()
    )
    tock = time.perf_counter()
    results, errors = split_output(mapped.toArrow())
    computed = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in (("loan_state", results), ("errors", errors)):
        partial = out_dir / f".{name}.parquet.partial"
        frame.write_parquet(partial)
        partial.replace(out_dir / f"{name}.parquet")
    stats.loans = len(results)
    stats.delinquent = int((results["dpd"] > 0).sum())
    stats.errors = len(errors)
    stats.per_bucket = dict(results.group_by("bucket").len().iter_rows())
    write_run_record(out_dir, as_of, stats, "spark")
    stats.seconds.update(
        read=tock - tick, compute=computed - tock, write=time.perf_counter() - computed
    )
    return stats
