"""The escalation ladder as data: a versioned YAML strategy, validated on load, run per portfolio.

``model`` holds the frozen dataclasses, ``loader`` turns YAML into a ``Strategy`` (rejecting a bad
document with its line and reason), ``evaluate`` assigns stages, variants and due treatments to a
whole portfolio at once with Polars. No Django, no database: the collections app wires it in.
"""
