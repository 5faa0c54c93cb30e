"""The integrators' REST API (``/api/v1``): loans, payments, reversals, loan states, cases,
contacts, promises, plans, holds and the gate's answer, for a lender's core system."""
