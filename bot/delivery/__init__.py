"""One delivery engine for every queue of outgoing messages (issue 24).

A queue (``bot.delivery.queue.Queue``) is a table of rows with a due instant; the courier
(``bot.delivery.courier.Courier``) claims what is due, sends it through the one send budget,
and settles each row with one :class:`Outcome`. A queue keeps only its policy (what is due, what
to say, what counts as stale: ``bot.delivery.courier.Policy``) and its words; the courier owns
backoff, attempt limits, grouping by recipient and the stop path. The life of a row is in
docs/architecture.md ("The delivery engine").
"""
