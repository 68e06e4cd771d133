"""The one CSRF protector (Flask-WTF), in a module of its own so that both the credential check
(leader.auth) and the sign-in code (leader.sessions, leader.login) can use it without importing each other.

Its default check is off (`WTF_CSRF_CHECK_DEFAULT = False`): leader.auth calls `csrf.protect()` only for
cookie-authenticated requests that change something; Bearer-token requests need none.
"""

from __future__ import annotations

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
