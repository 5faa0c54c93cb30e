"""Arrears: a compliance-first loan delinquency and collections system."""

__version__ = "0.1.0"
