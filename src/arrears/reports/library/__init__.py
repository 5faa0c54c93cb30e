"""One module per report; each calls :func:`arrears.reports.base.register` at import.
:func:`arrears.reports.base.load_all` imports every module here, so adding a report is adding
a file."""
