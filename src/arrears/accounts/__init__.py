"""Roles and login security: the Django groups each role is, who holds which role, the login
lockout backend and the admin's door (``docs/security.md``)."""
