"""Signals the ledger sends so other apps can react without the ledger knowing them.

``payment_changed`` fires (after the transaction commits) when a single payment is recorded or
reversed through the services; the collections app re-evaluates the borrower's case on it.
Bulk imports do not fire it per row: the next daily run picks those up.
"""

from __future__ import annotations

import django.dispatch

#: sent with ``payment`` (a ledger.Payment) and ``change`` ("recorded" | "reversed").
payment_changed = django.dispatch.Signal()
