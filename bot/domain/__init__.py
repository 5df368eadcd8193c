"""Pure domain rules: no Telegram, no database, no clock of their own."""
