"""No tables: roles are Django groups (``roles.py``). The module exists because Django sends
``post_migrate`` only to apps with a models module, and that signal syncs the groups."""
