"""The tests' local Spark session: one per pytest process, its JVM set up for short jobs.

A Spark test's CPU is nearly all its JVM's, and none of it shows in pytest's own figures: the
JVM and its Python workers are not children pytest waits for. Measured for the whole process
tree on the 2-core CI machine, starting a session cost ~5.5 CPU-s, the first run of the runner
~12 and each later run ~2.5, mostly the JVM loading Spark's classes and compiling. So:

* the optimising compiler is off (a job this small ends before C2 pays back its compiling) and
  the serial collector replaces G1 (no concurrent collector threads);
* the JVM maps Spark's classes, already parsed and verified, from a class-data-sharing archive
  (the JDK's dynamic AppCDS) kept in the virtualenv with the jars it was made from: a session
  then starts for ~2.8 CPU-s and its first run costs ~10. The first process that finds no
  archive writes one as its JVM exits (``-XX:ArchiveClassesAtExit``: ~30 CPU-s, once), under a
  lock and to a temporary name renamed once that JVM has exited, so no JVM ever maps half an
  archive; processes that start meanwhile run without. ``python -m tests.engine.spark_jvm``
  writes it ahead (with the variable set). A JVM that cannot use the archive (another Java build,
  other jars) ignores it and loads its classes as before: the archive costs or saves time,
  never a result. Off unless ``ARREARS_TEST_SPARK_CDS=1``: writing the archive (~30–45 CPU-s)
  pays back only over several runs in one virtualenv, and CI's clean checkout runs once.
* every Spark test of the process shares the session (``spark_session`` reuses the active
  one); it stops at the end of the pytest session.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Test-only JVM flags: a short job starts faster without the optimising compiler.
JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
#: Batches of two loans force several ``compute_chunk`` calls per partition, so a test would
#: notice a loan split from its instalments or payments.
CONF = {"spark.sql.execution.arrow.maxRecordsPerBatch": "2"}
#: Set to ``1`` to start the JVM with the class archive (a developer's repeated runs).
USE_ARCHIVE = "ARREARS_TEST_SPARK_CDS"
#: How long the JVM may take to write the archive and exit (it takes seconds).
EXIT_TIMEOUT = 300


def _java() -> Path | None:
    """The ``java`` PySpark starts: ``$JAVA_HOME/bin/java``, else the one on the PATH."""
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    return Path(found).resolve() if found and Path(found).exists() else None


def archive_path() -> Path | None:
    """Where this Java's and this PySpark's class archive lives (None: no archive).

    The name changes with the Java build, PySpark's version and jars, and the JVM flags, so a
    stale archive is not even offered; the JVM checks the jars itself as well."""
    java = _java()
    if java is None or os.environ.get(USE_ARCHIVE, "0") != "1":
        return None
    spec = importlib.util.find_spec("pyspark")  # not imported: a CI step asks this too
    if spec is None or spec.origin is None:
        return None
    libjvm = java.parent.parent / "lib" / "server" / "libjvm.so"
    built = (libjvm if libjvm.exists() else java).stat()
    jars = Path(spec.origin).parent / "jars"
    version = importlib.metadata.version("pyspark")
    parts = (java, built.st_size, built.st_mtime_ns, version, jars, *JVM_OPTIONS)
    key = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]
    return Path(sys.prefix) / "spark-cds" / f"{key}.jsa"


@dataclass
class _Writer:
    """This process writes the archive: its JVM dumps to ``partial``; ``lock`` keeps other
    processes from doing the same (the system drops it if this process dies)."""

    archive: Path
    partial: Path
    lock: IO[str]

    def finish(self) -> None:
        """Once the JVM has exited, having written ``partial`` in full, it is the archive."""
        try:
            if _exit_jvm() == 0 and self.partial.is_file():
                self.partial.replace(self.archive)
        finally:
            self.partial.unlink(missing_ok=True)
            self.lock.close()


def _claim(archive: Path) -> _Writer | None:
    """The writing of ``archive``, if no other process holds it and there is no archive yet."""
    try:
        archive.parent.mkdir(parents=True, exist_ok=True)
        lock = (archive.parent / f"{archive.name}.lock").open("w")
    except OSError:  # a read-only virtualenv: run without an archive
        return None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        return None
    if archive.exists():  # written while we were deciding
        lock.close()
        return None
    # a killed writer's part, and the archives of a former Java or PySpark (~190 MB each; a JVM
    # still mapping one keeps its pages)
    for stale in archive.parent.glob("*.jsa*"):
        if stale.suffix != ".lock" and stale != archive:
            stale.unlink(missing_ok=True)
    return _Writer(archive, archive.parent / f"{archive.name}.{os.getpid()}.partial", lock)


def _exit_jvm() -> int | None:
    """Make PySpark's JVM exit (it does when its stdin closes) and wait for it: its exit code,
    or None if there was none. A later session in this process would start a new JVM."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return None
    process = getattr(gateway, "proc", None)
    gateway.close()
    SparkContext._gateway = None
    SparkContext._jvm = None
    if process is None or process.stdin is None:
        return None
    process.stdin.close()
    return int(process.wait(timeout=EXIT_TIMEOUT))


def _jvm_options() -> tuple[list[str], _Writer | None]:
    """:data:`JVM_OPTIONS` and the archive's: to use it, or to write it (with the writer)."""
    options = list(JVM_OPTIONS)
    archive = archive_path()
    if archive is None:
        return options, None
    if archive.is_file():
        return [*options, f"-XX:SharedArchiveFile={archive}"], None
    writer = _claim(archive)
    if writer is not None:  # quiet about the few hundred classes it cannot archive
        options += [f"-XX:ArchiveClassesAtExit={writer.partial}", "-Xlog:cds=error"]
    return options, writer


def local_session() -> contextlib.AbstractContextManager[SparkSession]:
    """A ``local[2]`` session with :data:`JVM_OPTIONS` and :data:`CONF`, and the class archive
    (used if there is one, else written on leaving if this process may); stopped on leaving."""
    return _session(*_jvm_options())


@contextlib.contextmanager
def _session(options: list[str], writer: _Writer | None) -> Iterator[SparkSession]:
    from arrears.engine.spark import spark_session

    conf = {**CONF, "spark.driver.extraJavaOptions": " ".join(options)}
    try:
        session = spark_session("local[2]", conf)
        try:
            yield session
        finally:
            session.stop()
    finally:
        if writer is not None:
            writer.finish()


def main() -> int:
    """Write the archive ahead, from one run of the runner on a small synthetic snapshot, unless
    there is one (or another process is writing it, or it is turned off)."""
    options, writer = _jvm_options()
    if writer is None:
        return 0
    from arrears.engine.spark import run_snapshot_spark
    from arrears.engine.synthetic import write_synthetic_snapshot

    as_of = date(2026, 6, 30)
    with tempfile.TemporaryDirectory() as scratch, _session(options, writer):
        snapshot = Path(scratch) / "snapshot"
        write_synthetic_snapshot(snapshot, loans=20, as_of=as_of, rows_per_group=32)
        run_snapshot_spark(snapshot, Path(scratch) / "out", as_of, partitions=2)
    written = writer.archive.is_file()
    print(f"Spark class archive: {writer.archive}" if written else "no Spark class archive")
    return 0


if __name__ == "__main__":
    sys.exit(main())
