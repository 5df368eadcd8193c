"""How fast does a broadcast go out, and do reminders that fall due meanwhile stay on time?

The real process and clock, and a Bot API stand-in that refuses (429) more than 30 messages
in any second. N users get a broadcast confirmed just before the bot starts; M other users
have a dose due a few seconds later, in the middle of it.

    python -m bench.broadcast_rate [--users 300 1000] [--reminders 60]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import tempfile
import time as monotonic_time
from datetime import UTC, datetime
from pathlib import Path

from bench.reminder_latency import LEAD, start_bot
from bot.emulator.api import FakeBotAPI
from tests.seed import seed_broadcast, seed_due_doses

ADMIN_ID = 900_001
FIRST_RECIPIENT = 100_001
BODY = "📣 <b>News from your clinic</b>\n\nA benchmark broadcast."


async def run(users: int, reminders: int) -> dict[str, float]:
    api = FakeBotAPI(global_rate=30)
    await api.start()
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bot.sqlite3"
        now = await seed_due_doses(database, range(1, reminders + 1), [-LEAD])
        due = now + LEAD
        recipients = range(FIRST_RECIPIENT, FIRST_RECIPIENT + users)
        await seed_broadcast(database, recipients, ADMIN_ID, BODY)
        process = await start_bot(api, database, ADMIN_IDS=str(ADMIN_ID))
        try:
            timeout = users / 10 + 60
            await api.wait_for(
                "sendMessage", lambda call: call.params["chat_id"] == ADMIN_ID, timeout=timeout
            )
            await api.wait_for(
                "sendMessage",
                lambda call: call.params["chat_id"] <= reminders and call.status == 200,
                count=reminders,
                timeout=timeout,
            )
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()
    await api.close()
    sends = [call for call in api.calls_of("sendMessage") if call.status == 200]
    broadcast = [call.at for call in sends if call.params["chat_id"] in recipients]
    offset = monotonic_time.monotonic() - datetime.now(UTC).timestamp()
    due_monotonic = due.timestamp() + offset
    lateness = [call.at - due_monotonic for call in sends if call.params["chat_id"] <= reminders]
    return {
        "users": users,
        "seconds": broadcast[-1] - broadcast[0],
        "rate": (len(broadcast) - 1) / (broadcast[-1] - broadcast[0]),
        "retry_after": api.retry_after_count,
        "reminders": reminders,
        "reminder_max_late_s": max(lateness, default=0.0),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, nargs="*", default=[300])
    parser.add_argument("--reminders", type=int, default=60)
    args = parser.parse_args(argv)
    for users in args.users:
        report(asyncio.run(run(users, args.reminders)))


def report(figures: dict[str, float]) -> None:
    print(
        f"broadcast to {figures['users']:.0f} users: {figures['seconds']:.1f} s, "
        f"{figures['rate']:.1f} messages/s, {figures['retry_after']:.0f} answered 429 "
        f"(stand-in limit: 30 a second); {figures['reminders']:.0f} reminders due mid-broadcast, "
        f"max {figures['reminder_max_late_s']:.2f} s late"
    )


if __name__ == "__main__":
    main()
