"""Message templates in zh-CN and en: the shipped catalogue, strict rendering, checks, storage.

``render`` (pure) renders ``${var}`` templates strictly and ``check``s them against the documented
variables (``context``) and the compliance pack's content rules; ``catalogue`` holds the shipped
wording as data files; the Django app (label ``notices``) stores versioned templates with one
active version per (code, locale, channel), and ``services`` saves drafts, activates (refusing a
template with problems) and renders the active template at dispatch time.
"""
