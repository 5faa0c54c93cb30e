"""End to end through the real commands: a new strategy version does not contact anyone again.

Issue 9: `strategy publish` v2, then `run-day --as-of` the same date, then `dispatch --once`
re-sent the day's messages, because work items and messages were keyed by the strategy version.
A contact is keyed by what reaches the person (borrower, channel, template, day): the second
version's run of the same day finds every contact made and queues nothing, and the dispatcher
sends nothing — not through the SMTP server, not through the SMS log channel.

The book up to v2's run of the day (seeded, v2 published, the day run: twelve messages queued)
is the one the killed-dispatcher test starts from too (``queued_book``, built once a session).
The first dispatch is its own ``arrears`` process; v3's publishing, the rerun of the day and the
second dispatch share one fresh process after it (``tests.processes.commands``): a process other
than the ones that queued and sent, which is what the issue is about, without paying for
Django's start three times.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from arrears.channels.local import read_log
from tests.contact.test_end_to_end import DAY, copy_queued_book, email_strategy
from tests.processes import Book, Build, check, commands, sqlite_env
from tests.smtp import Mailbox


def condition_changed(text: str) -> str:
    """Version 3: the reminder stage's entry condition changes, its treatments do not."""
    changed = text.replace("version: 2", "version: 3", 1)
    changed = changed.replace("entry: dpd >= 1 AND dpd <= 15", "entry: dpd >= 1 AND dpd <= 20")
    assert changed.count("dpd <= 20") == 1
    return changed


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


@pytest.mark.slow
def test_a_new_strategy_version_and_a_rerun_of_the_day_send_nothing_new(
    tmp_path: Path,
    mailbox: tuple[Mailbox, dict[str, str]],
    sqlite_book: Callable[[Build], Book],
) -> None:
    box, smtp = mailbox
    sms_log = tmp_path / "channels.jsonl"
    db = copy_queued_book(sqlite_book, tmp_path)  # v2 published, its run of DAY: 12 queued
    env = sqlite_env(tmp_path, **smtp, ARREARS_CHANNEL_LOG=str(sms_log))
    v3 = tmp_path / "v3.yaml"
    v3.write_text(condition_changed(email_strategy()), "utf-8")

    first = check(env, "dispatch", "--once", "--now", f"{DAY}T10:00:00+08:00")
    assert first.startswith("12 due; 12 sent"), first  # an SMS and an email for each of the six
    assert len(box.received) == 6 and len(read_log(sms_log)) == 6
    rows = _rows(db, "SELECT COUNT(*) FROM contact_outboxmessage")[0][0]
    items = _rows(db, "SELECT COUNT(*) FROM collections_workitem")[0][0]

    # v3, the day again and the dispatcher again: in a fresh process (not the one that queued
    # or the one that sent), one process for the three (tests.processes.commands)
    _, again, second = commands(
        env,
        ("strategy", "publish", str(v3), "--note", "reminders until dpd 20"),
        ("run-day", "--as-of", str(DAY), "--engine", "reference"),
        ("dispatch", "--once", "--now", f"{DAY}T10:05:00+08:00"),
    )
    assert "0 message(s) queued" in again and "0 work items" in again, again
    assert second.startswith("0 due; 0 sent, 0 deferred, 0 suppressed, 0 expired"), second

    assert len(box.received) == 6 and len(read_log(sms_log)) == 6  # nobody contacted again
    assert _rows(db, "SELECT COUNT(*) FROM contact_outboxmessage")[0][0] == rows
    assert _rows(db, "SELECT COUNT(*) FROM collections_workitem")[0][0] == items
    per_contact = _rows(
        db,
        "SELECT borrower_id, channel, template, due_on, COUNT(*) FROM contact_outboxmessage "
        "GROUP BY borrower_id, channel, template, due_on",
    )
    assert len(per_contact) == 12 and {row[-1] for row in per_contact} == {1}
    # the version that asked is recorded on the item, not part of the contact's identity
    assert {row[0] for row in _rows(db, "SELECT strategy FROM collections_workitem")} == {
        "default v2"
    }
