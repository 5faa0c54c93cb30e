"""The pure domain kernel: exact money, calendars, schedules, accrual, allocation, delinquency.

Standard library only (no Django, no third-party imports): these modules are the reference
semantics every other layer (the vectorised engine, the Django apps) must agree with.
"""
