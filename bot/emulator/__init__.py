"""A local Telegram Bot API emulator: the stand-in of the tests and benchmarks, and ``make demo``.

``api`` answers the Bot API methods the bot uses the way Telegram does; ``demo`` runs the real
bot against it with a web chat page and a time machine. It needs the ``demo`` extra (aiohttp).
"""
