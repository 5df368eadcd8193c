"""Telegram handlers: parse the update, call a service, format the reply. No SQL here."""
