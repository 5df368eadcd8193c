"""Baclofen companion bot: titration reminders, missed-dose guidance and vetted quick facts."""
