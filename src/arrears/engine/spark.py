"""The daily run on Spark: the very chunk function of the Polars runner, mapped over partitions,
its rows written by the executors themselves.

Each loan travels as one row carrying its instalments and payments (arrays of structs), so a
partition holds whole loans and :func:`~arrears.engine.chunk.compute_chunk` needs nothing from
any other partition; the small products table rides along in the closure as Arrow IPC bytes.
Results and errors come back in one Arrow stream (an error row has ``error_code`` set), which is
persisted on the executors and written twice by Spark's DataFrame writer — results and errors,
each its own partitioned Parquet dataset — so the engine runs once per loan and no loan row ever
reaches the driver: it holds the products table, the query plan and a summary of a few rows
(loans and delinquent loans per bucket, errors). Every hop is Arrow: Spark ``DecimalType`` ↔
Arrow ``decimal128`` ↔ Polars ``Decimal`` and ``DateType`` ↔ ``date32``, so rates and
multipliers reach the engine digit for digit — never through a float.

Layout of an output (a local path or any URI Spark's writer takes: ``s3a://``, ``hdfs://``)::

    OUT/loan_state/as_of=2026-06-20/bucket=current/part-….parquet   RESULT_SCHEMA, by as_of, bucket
    OUT/errors/code=invalid_schedule/part-….parquet                 ERROR_SCHEMA, by code
    OUT/run.json                                                    written last: the run is whole

The partition columns are columns of the schemas, so a Hive-partitioned read
(:func:`read_output`, ``pl.scan_parquet(..., hive_partitioning=True)``, a pyarrow dataset,
``spark.read.parquet``) gives back exactly the rows and columns of the local runner.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa

from arrears.engine.chunk import ERROR_SCHEMA, RESULT_SCHEMA, compute_chunk
from arrears.engine.runner import RunStats, write_run_record
from arrears.engine.snapshot.format import (
    CONCESSION_TABLES,
    MANIFEST,
    PLAN_INSTALMENTS,
    PLANS,
    TABLES_OF_VERSION,
    WAIVERS,
)
from arrears.engine.snapshot.format import INSTALMENTS as INSTALMENTS_TABLE
from arrears.engine.snapshot.format import PAYMENTS as PAYMENTS_TABLE

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: The files every snapshot has; version 2 adds the concessions (read when the manifest says so).
TABLES = TABLES_OF_VERSION[1]
#: A loan's rows of each child table travel nested in one column through the shuffle.
CHILDREN = (INSTALMENTS_TABLE, PAYMENTS_TABLE, *CONCESSION_TABLES)
NESTED = {name: f"_{name}" for name in CHILDREN}

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

#: Settings of every session the runner starts: Arrow transfer and reused Python workers (each
#: keeps its loaded compiled replay; numba's on-disk cache spares a recompile in new workers).
SESSION_CONF = {
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.python.worker.reuse": "true",
    "spark.sql.session.timeZone": "UTC",
}
#: Defaults for a local master only — no UI, small memory, few shuffle partitions. On a cluster
#: these come from ``spark-submit`` and ``spark-defaults.conf`` and must not be overridden.
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "1g",
    "spark.sql.shuffle.partitions": "8",
}
#: The two datasets of an output and the columns each is partitioned by (see the module doc).
RESULTS = "loan_state"
ERRORS = "errors"
RESULT_PARTITIONS = ("as_of", "bucket")
ERROR_PARTITIONS = ("code",)


def spark_session(
    master: str | None = "local[2]", conf: Mapping[str, str] | None = None
) -> SparkSession:
    """The active session, or a new one for ``master`` with :data:`SESSION_CONF` and ``conf``.

    An active session is reused untouched (its memory, partitions and JVM flags win, and
    ``master`` is ignored): start one yourself to run a large portfolio with more memory.
    ``master=None`` takes the master and settings ``spark-submit`` was given. On a local master
    the session also gets :data:`LOCAL_CONF`, the Python workers run this interpreter (Spark
    would otherwise start whatever ``python3`` is on the PATH, without the engine's packages)
    and the driver binds to loopback; on a cluster the deployment sets ``PYSPARK_PYTHON``.
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    settings = dict(SESSION_CONF)
    builder = SparkSession.builder.appName("arrears-daily")
    if master is not None:
        builder = builder.master(master)
        if master.startswith("local"):
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            settings.update(LOCAL_CONF)
    for key, value in {**settings, **(conf or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    return session


def colocated(
    spark: SparkSession,
    snapshot: str | Path,
    partitions: int | None = None,
    children: Sequence[str] = (INSTALMENTS_TABLE, PAYMENTS_TABLE),
) -> DataFrame:
    """One row per loan with its rows of each of ``children`` nested (instalments and
    payments; for a version 2 snapshot also waivers, plans and plan instalments),
    hash-partitioned by loan_id (``snapshot``: a directory or a URI Spark reads, see
    :func:`location`).

    A loan without rows in a child table gets a null array (left joins); child rows of loans
    missing from ``loans`` are dropped, as ``compute_chunk`` would ignore them.
    """
    from pyspark.sql import functions as F

    def read(name: str) -> DataFrame:
        return spark.read.parquet(f"{location(snapshot)}/{name}.parquet")

    def nest(frame: DataFrame, alias: str) -> DataFrame:
        fields = [c for c in frame.columns if c != "loan_id"]
        return frame.groupBy("loan_id").agg(F.collect_list(F.struct(*fields)).alias(alias))

    joined = read("loans")
    for name in children:
        joined = joined.join(nest(read(name), NESTED[name]), "loan_id", "left")
    if partitions is None:
        return joined.repartition("loan_id")
    return joined.repartition(partitions, "loan_id")


def flat_frames(frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    """The loans of a batch of co-located rows, and each nested child table as a frame."""

    def flatten(column: str) -> pl.DataFrame:
        return (
            frame.select("loan_id", column)
            .explode(column)
            .filter(pl.col(column).is_not_null())
            .unnest(column)
        )

    nested = [name for name in CHILDREN if NESTED[name] in frame.columns]
    loans = frame.drop(*(NESTED[name] for name in nested))
    return loans, {name: flatten(NESTED[name]) for name in nested}


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
            loans, children = flat_frames(frame)
            yield from _output_batches(
                *compute_chunk(
                    products,
                    loans,
                    children[INSTALMENTS_TABLE],
                    children[PAYMENTS_TABLE],
                    as_of,
                    waivers=children.get(WAIVERS),
                    plans=children.get(PLANS),
                    plan_instalments=children.get(PLAN_INSTALMENTS),
                )
            )

    return run_partition


def _local_tables(source: str) -> tuple[str, ...]:
    """The files of a local snapshot by its manifest's version (a version 1 snapshot has no
    concessions, whatever else lies in its directory); without a manifest, the four."""
    manifest = local_path(f"{source}/{MANIFEST}")
    if not manifest.exists():
        return TABLES
    version = json.loads(manifest.read_text()).get("version", 1)
    return TABLES_OF_VERSION.get(version, TABLES)


def _spark_schema() -> str:
    """:data:`OUTPUT_SCHEMA` as a Spark DDL string."""
    names = {pa.int64(): "BIGINT", pa.string(): "STRING", pa.date32(): "DATE"}
    return ", ".join(f"`{f.name}` {names[f.type]}" for f in OUTPUT_SCHEMA)


def location(where: str | Path) -> str:
    """``where`` as Spark should be given it: a URI with a scheme (``s3a://b/run``,
    ``hdfs://nn/run``, ``file:///tmp/run``) as it is, a local path made absolute; no trailing
    slash. (``Path`` would fold the ``//`` of a URI, so URIs stay strings throughout.)"""
    text = str(where)
    if "://" in text or text.startswith("file:"):
        return text.rstrip("/")
    return str(Path(text).absolute())


def is_local(where: str) -> bool:
    """Whether a :func:`location` is on this machine's file system (a path or ``file:``)."""
    return "://" not in where or where.startswith("file:")


def local_path(where: str) -> Path:
    """The path of a local :func:`location` (``file:///tmp/x`` and ``/tmp/x`` alike)."""
    return Path(where.removeprefix("file://").removeprefix("file:"))


def _hadoop_fs(spark: SparkSession, where: str) -> tuple[object, object]:
    """(file system, path) of Hadoop's API for ``where`` — whatever Spark's writer can reach."""
    jvm = spark._jvm  # PySpark exposes Hadoop's API only through the gateway
    path = jvm.org.apache.hadoop.fs.Path(where)  # type: ignore[union-attr]
    return path.getFileSystem(spark._jsc.hadoopConfiguration()), path


def _exists(spark: SparkSession, where: str) -> bool:
    if is_local(where):
        return local_path(where).exists()
    fs, path = _hadoop_fs(spark, where)
    return bool(fs.exists(path))  # type: ignore[attr-defined]


def _delete(spark: SparkSession, where: str) -> None:
    if is_local(where):
        local_path(where).unlink(missing_ok=True)
        return
    fs, path = _hadoop_fs(spark, where)
    fs.delete(path, False)  # type: ignore[attr-defined]


def _put_text(spark: SparkSession, where: str, text: str) -> None:
    """Write a small text file whole: to a temporary name, then renamed into place (on S3 the
    object appears only once closed; on HDFS and local disks the rename is atomic)."""
    parent, name = where.rsplit("/", 1)
    partial = f"{parent}/.{name}.partial"
    if is_local(where):
        local_path(parent).mkdir(parents=True, exist_ok=True)
        local_path(partial).write_text(text, encoding="utf-8")
        local_path(partial).replace(local_path(where))
        return
    fs, path = _hadoop_fs(spark, where)
    _, temporary = _hadoop_fs(spark, partial)
    stream = fs.create(temporary, True)  # type: ignore[attr-defined]
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()
    fs.delete(path, False)  # type: ignore[attr-defined]
    if not fs.rename(temporary, path):  # type: ignore[attr-defined]
        raise OSError(f"could not rename {partial} to {where}")


def _run_record(as_of: date, stats: RunStats) -> str:
    """The text of ``run.json``, exactly as :func:`~arrears.engine.runner.write_run_record`
    writes it for the other engines (written through it, so the two cannot drift)."""
    with tempfile.TemporaryDirectory() as scratch:
        write_run_record(Path(scratch), as_of, stats, "spark")
        return (Path(scratch) / "run.json").read_text(encoding="utf-8")


def _summary(mapped: DataFrame) -> tuple[dict[str, tuple[int, int]], int]:
    """({bucket: (loans, delinquent)}, errors) — the only rows the driver ever receives: one
    per bucket and one for the errors, aggregated on the executors."""
    from pyspark.sql import functions as F

    failed = F.col("error_code").isNotNull()
    rows = (
        mapped.groupBy(failed.alias("failed"), "bucket")
        .agg(F.count(F.lit(1)).alias("n"), F.count_if(F.col("dpd") > 0).alias("late"))
        .collect()
    )
    per_bucket = {r["bucket"]: (int(r["n"]), int(r["late"])) for r in rows if not r["failed"]}
    return per_bucket, sum(int(r["n"]) for r in rows if r["failed"])


def run_snapshot_spark(
    snapshot: str | Path,
    out: str | Path,
    as_of: date,
    *,
    master: str | None = "local[2]",
    partitions: int | None = None,
) -> RunStats:
    """Every loan of a snapshot as of ``as_of``, computed and written by Spark's executors.

    ``snapshot`` and ``out`` are local paths or URIs Spark reads and writes (``s3a://``,
    ``hdfs://``; on a cluster both must be reachable from every executor). Writes
    ``out/loan_state/`` (a row per loan that had started, partitioned by ``as_of`` and
    ``bucket``), ``out/errors/`` (a row per loan that could not be computed, partitioned by
    ``code``) — the rows ``compute_chunk`` gives for the whole snapshot — and ``out/run.json``,
    the record every engine writes, and returns the same
    :class:`~arrears.engine.runner.RunStats` (its ``line`` is what ``run-day`` prints).

    Re-running into the same ``out`` replaces it. The order is the commit protocol: the old
    ``run.json`` is deleted first; each dataset is written in overwrite mode (static: the whole
    dataset, never only the partitions the new run fills, so a bucket that emptied leaves no
    stale rows) through Spark's file commit protocol — task files under ``_temporary``, moved
    into place at job commit, ``_SUCCESS`` last; and ``run.json`` is written last, whole. So a
    reader that finds ``run.json`` finds both datasets complete and matching it; a failed run
    leaves no ``run.json``. (Overwrite is not atomic: the old rows are gone while the new are
    written. On S3 use an S3A committer, see docs/spark.md.)

    ``partitions`` sets how many partitions the loans are spread over (default: the session's
    ``spark.sql.shuffle.partitions``). The mapped output is persisted (memory and disk) between
    the two writes so the engine runs once per loan. ``seconds``: ``read`` is the driver's set-up
    (Spark reads lazily), ``compute`` the job that computes the loans and writes the results,
    ``write`` the errors, the summary and the run record.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    source, target = location(snapshot), location(out)
    tables = {name: f"{source}/{name}.parquet" for name in TABLES}
    if is_local(source):  # fail before starting a JVM
        tables = {name: f"{source}/{name}.parquet" for name in _local_tables(source)}
        for name, where in tables.items():
            if not local_path(where).exists():
                raise FileNotFoundError(f"snapshot {snapshot} has no {name}.parquet")
    stats = RunStats()
    tick = time.perf_counter()
    spark = spark_session(master)
    if not is_local(source):
        for name, where in tables.items():
            if not _exists(spark, where):
                raise FileNotFoundError(f"snapshot {snapshot} has no {name}.parquet")
        for name in CONCESSION_TABLES:  # a version 2 snapshot on object storage
            if _exists(spark, f"{source}/{name}.parquet"):
                tables[name] = f"{source}/{name}.parquet"
    products = pl.from_arrow(spark.read.parquet(tables["products"]).toArrow())
    assert isinstance(products, pl.DataFrame)
    buffer = io.BytesIO()
    products.write_ipc(buffer)
    mapped = (
        colocated(spark, source, partitions, [name for name in CHILDREN if name in tables])
        .mapInArrow(chunk_mapper(buffer.getvalue(), as_of), _spark_schema())
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    record = f"{target}/run.json"
    _delete(spark, record)
    tock = time.perf_counter()
    try:
        failed = F.col("error_code").isNotNull()
        (
            mapped.where(~failed)
            .select(*RESULT_SCHEMA)
            .sortWithinPartitions(*RESULT_PARTITIONS, "loan_id")
            .write.mode("overwrite")
            .option("partitionOverwriteMode", "static")
            .partitionBy(*RESULT_PARTITIONS)
            .parquet(f"{target}/{RESULTS}")
        )
        computed = time.perf_counter()
        (
            mapped.where(failed)
            .select(
                "loan_id",
                "ref",
                F.col("error_code").alias("code"),
                F.col("error_message").alias("message"),
            )
            .sortWithinPartitions(*ERROR_PARTITIONS, "loan_id")
            .write.mode("overwrite")
            .option("partitionOverwriteMode", "static")
            .partitionBy(*ERROR_PARTITIONS)
            .parquet(f"{target}/{ERRORS}")
        )
        per_bucket, stats.errors = _summary(mapped)
    finally:
        mapped.unpersist()
    stats.loans = sum(n for n, _ in per_bucket.values())
    stats.delinquent = sum(late for _, late in per_bucket.values())
    stats.per_bucket = {bucket: n for bucket, (n, _) in per_bucket.items()}
    _put_text(spark, record, _run_record(as_of, stats))
    stats.seconds.update(
        read=tock - tick, compute=computed - tock, write=time.perf_counter() - computed
    )
    return stats


def read_output(out: str | Path) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(results, errors) of a Spark run's output on a local disk, as lazy frames in exactly
    :data:`~arrears.engine.chunk.RESULT_SCHEMA` and ``ERROR_SCHEMA`` (columns in order, partition
    columns back in their places), unsorted. Polars scans the Hive layout itself; the partition
    types are given, not guessed, so a bucket named ``0`` stays a string. An empty dataset (Spark
    writes no file when there are no rows) reads as an empty frame."""
    root = local_path(location(out))

    def scan(name: str, schema: dict[str, pl.DataType], keys: tuple[str, ...]) -> pl.LazyFrame:
        if not any((root / name).rglob("*.parquet")):
            return pl.LazyFrame(schema=schema)
        return pl.scan_parquet(
            root / name / "**" / "*.parquet",
            hive_partitioning=True,
            hive_schema={key: schema[key] for key in keys},
        ).select(list(schema))

    return scan(RESULTS, RESULT_SCHEMA, RESULT_PARTITIONS), scan(
        ERRORS, ERROR_SCHEMA, ERROR_PARTITIONS
    )


def main(argv: list[str] | None = None) -> int:
    """``spark-submit …/arrears/engine/spark.py --snapshot URI --out URI --as-of DATE``: the
    run without Django, for a cluster (see docs/spark.md). Prints the summary ``run-day``
    prints. Without ``--master`` the master is the one ``spark-submit`` was given."""
    import argparse

    from arrears.engine import spark as this  # not __main__'s copy: executors import the module

    parser = argparse.ArgumentParser(prog="arrears-spark", description=main.__doc__)
    parser.add_argument("--snapshot", required=True, help="snapshot directory or URI")
    parser.add_argument("--out", required=True, help="output directory or URI (replaced)")
    parser.add_argument("--as-of", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("--master", default=None, help="e.g. local[2]; default: spark-submit's")
    parser.add_argument("--partitions", type=int, default=None, help="partitions of loans")
    args = parser.parse_args(argv)
    stats = this.run_snapshot_spark(
        args.snapshot, args.out, args.as_of, master=args.master, partitions=args.partitions
    )
    print(stats.line(args.as_of))
    return 0


if __name__ == "__main__":
    sys.exit(main())
