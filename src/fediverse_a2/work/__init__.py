"""Work that waits in a queue, and whoever does it: the layer between the store and the workers.

`leased.py` is the one runner of the leased queues (store/queue.py declares them: deliveries,
inbox items, outgoing mail): take back dead owners' leases (`reclaim.py`), claim a batch,
keep its leases renewed while the work runs, hand back what is left when the worker stops.
`wakeups.py` is the wake-up transport: work queued by one process starts the others at once
(a datagram on 127.0.0.1 for SQLite, LISTEN/NOTIFY for PostgreSQL), not at their next poll.

This package imports the store and the pure core only; federation/ and mail/ use it.
"""
