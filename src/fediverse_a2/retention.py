"""PURE: how long the service keeps what it no longer needs (data minimisation, AVG art. 5(1)(c)).

Housekeeping (background/workers.py) deletes by these windows; /privacy states them. The other
windows live where they are decided: sessions and invitations (services/accounts.py), failed
sign-ins with their addresses (accounts/throttle.py), raw inbox bodies (`inbox.keep_raw_days`).
"""

from __future__ import annotations

__all__ = ["MAIL_DAYS", "REJECTED_REQUEST_DAYS"]

# A mail that went out (or failed for good) is kept this long, to see what happened to it.
MAIL_DAYS = 7
# A rejected membership request (name, e-mail, motivation) is kept this long, then deleted.
REJECTED_REQUEST_DAYS = 30
