"""Baclofen companion bot: titration reminders, missed-dose guidance and vetted quick facts."""

import os

# Opt in to PTB's future behaviour: time periods such as RetryAfter.retry_after are timedeltas.
# Without it PTB warns on every 429, and our tests turn warnings into errors.
os.environ.setdefault("PTB_TIMEDELTA", "true")
