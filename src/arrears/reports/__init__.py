"""Reports: figures a manager runs the collections on, reproducible as of any past date.

Every report is a function ``(ReportParams) -> ReportResult`` registered in
:mod:`arrears.reports.base`; the web pages, the CSV/XLSX downloads, the command line and the
monthly PDF pack all render the same result, so a figure has one computation.
"""
