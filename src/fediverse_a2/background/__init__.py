"""Background work: the loops that run the queues, and the process they run in.

`workers.py` (`Workers`) runs the inbox worker, the deliverer, housekeeping and the mail
worker as loops, each woken by a wake-up (work/wakeups.py) or its poll; `child.py`
(`WorkerChild`) is the `worker` process that `serve` starts beside its web process.

This package sits beside app.py and services/: it imports federation/ and mail/ (whose
workers it supervises), and only cli/ and server.py import it (app.py takes its `Workers`).
"""
