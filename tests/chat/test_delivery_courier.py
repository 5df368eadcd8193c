"""The delivery engine's courier on virtual time: each outcome of a send, through the real Bot
and the Bot API stand-in, settles its row once, with the right retry instant and attempt limit;
a 403 ends the recipient's turn; stopping releases what never left."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.delivery.budget import Priority
from bot.delivery.courier import Courier, Drop, Fanout, Letter, Rules
from bot.delivery.queue import Outcome, Settled
from tests.conftest import RunningBot


@dataclass(frozen=True)
class Row:
    row_id: int
    chat_id: int
    attempts: int = 0
    drop: str | None = None
    broken: bool = False
    copies: tuple[int, ...] = ()


@dataclass
class ListQueue:
    """An in-memory queue: what the courier claims, marks and settles, in order."""

    rows: list[Row]
    in_flight: list[int] = field(default_factory=list)
    settled: dict[int, Settled] = field(default_factory=dict)
    claims: int = 0
    break_settle: set[int] = field(default_factory=set)  # rows whose first SENT record breaks

    async def claim(self, now: datetime, limit: int) -> Sequence[Row]:
        self.claims += 1
        batch, self.rows = self.rows[:limit], self.rows[limit:]
        return batch

    async def mark_in_flight(self, items: Sequence[Row], now: datetime) -> None:
        self.in_flight.extend(item.row_id for item in items)

    async def settle(self, item: Row, settled: Settled) -> bool:
        assert item.row_id not in self.settled, "settled twice"
        if settled.outcome is Outcome.SENT and item.row_id in self.break_settle:
            self.break_settle.discard(item.row_id)
            raise RuntimeError("the database was busy")
        self.settled[item.row_id] = settled
        return True

    async def recover(self, now: datetime) -> int:
        return 0

    async def next_due_at(self) -> datetime | None:
        return None


class Words:
    name = "test_row"
    priority = Priority.REMINDER

    def __init__(self) -> None:
        self.told: list[tuple[int, Outcome]] = []

    def ids(self, item: Row) -> str:
        return f"row={item.row_id}"

    def attempts(self, item: Row) -> int:
        return item.attempts

    def recipient(self, item: Row) -> int:
        return item.chat_id

    async def compose(self, item: Row, now: datetime) -> Letter | Fanout | Drop:
        if item.broken:
            raise RuntimeError("a bug in the policy")
        if item.drop is not None:
            return Drop(item.drop)
        if item.copies:
            return Fanout([Letter(chat, f"copy {item.row_id}") for chat in item.copies])
        return Letter(item.chat_id, f"row {item.row_id}", detail=item.row_id)

    async def settled(self, item: Row, settled: Settled) -> None:
        self.told.append((item.row_id, settled.outcome))


def _courier(bot: RunningBot, queue: ListQueue, **rules: object) -> tuple[Courier[Row], Words]:
    words = Words()
    courier = Courier(
        queue=queue,
        policy=words,
        rules=Rules(**rules),  # type: ignore[arg-type]
        clock=bot.clock,
        bot=bot.application.bot,
        metrics=bot.services.metrics,
    )
    return courier, words


def _never() -> bool:
    return False


async def test_sent_is_marked_in_flight_first_and_settled_once(bot: RunningBot) -> None:
    queue = ListQueue([Row(1, 501), Row(2, 502, drop="answered")])
    courier, words = _courier(bot, queue)
    assert await courier.run(_never) is None
    sent = queue.settled[1]
    assert sent.outcome is Outcome.SENT and sent.message_id is not None and sent.detail == 1
    assert queue.in_flight == [1]  # a dropped row never had a request
    assert queue.settled[2] == Settled(Outcome.DROPPED, bot.clock.now(), reason="answered")
    assert sorted(words.told) == [(1, Outcome.SENT), (2, Outcome.DROPPED)]
    assert [m["text"] for m in bot.api.messages_to(501)] == ["row 1"]
    assert bot.api.messages_to(502) == []


async def test_a_server_error_is_retried_after_the_backoff_then_given_up(bot: RunningBot) -> None:
    now = bot.clock.now()
    bot.api.fail("sendMessage", status=502, times=2)
    queue = ListQueue([Row(1, 501, attempts=2), Row(2, 502, attempts=7)])
    courier, _ = _courier(bot, queue, max_attempts=8)
    retry_at = await courier.run(_never)
    retried = queue.settled[1]
    # 15 s doubled per attempt before: the third attempt waits 60 s; it may have arrived.
    assert retried.outcome is Outcome.RETRY and retried.possible_repeat
    assert retried.retry_at == now + timedelta(seconds=60) == retry_at
    assert queue.settled[2].outcome is Outcome.GAVE_UP and queue.settled[2].retry_at is None
    # Both requests left (the budget marked them), neither was accepted.
    assert sorted(queue.in_flight) == [1, 2]


async def test_the_backoff_is_capped(bot: RunningBot) -> None:
    bot.api.fail("sendMessage", status=500)
    queue = ListQueue([Row(1, 501, attempts=6)])
    courier, _ = _courier(bot, queue, max_attempts=None)
    await courier.run(_never)
    assert queue.settled[1].retry_at == bot.clock.now() + timedelta(seconds=600)


async def test_a_403_ends_the_recipients_turn_and_no_one_elses(bot: RunningBot) -> None:
    bot.api.blocked.add(501)
    queue = ListQueue([Row(1, 501), Row(2, 501), Row(3, 502)])
    courier, _ = _courier(bot, queue)
    await courier.run(_never)
    assert queue.settled[1].outcome is Outcome.UNREACHABLE
    # Claimed, never sent: released as it was, due now.
    assert queue.settled[2] == Settled(Outcome.RELEASED, bot.clock.now(), retry_at=bot.clock.now())
    assert queue.settled[3].outcome is Outcome.SENT
    assert len([c for c in bot.api.calls_of("sendMessage") if c.params["chat_id"] == 501]) == 1


async def test_a_400_is_rejected_not_retried(bot: RunningBot) -> None:
    bot.api.fail("sendMessage", status=400, description="Bad Request: can't parse entities")
    queue = ListQueue([Row(1, 501)])
    courier, _ = _courier(bot, queue)
    await courier.run(_never)
    assert queue.settled[1].outcome is Outcome.REJECTED


async def test_a_queue_may_say_what_a_failure_means(bot: RunningBot) -> None:
    from bot.delivery.send_errors import SendFailure

    bot.api.fail("sendMessage", status=502)
    failures = dict.fromkeys(SendFailure, Outcome.UNKNOWN)
    queue = ListQueue([Row(1, 501)])
    courier, _ = _courier(bot, queue, failures=failures)
    await courier.run(_never)
    assert queue.settled[1].outcome is Outcome.UNKNOWN


async def test_a_failure_may_end_the_turn(bot: RunningBot) -> None:
    bot.api.fail("sendMessage", status=502)
    queue = ListQueue([Row(1, 501), Row(2, 501)])
    courier, _ = _courier(bot, queue, failure_ends_turn=True, max_attempts=None)
    await courier.run(_never)
    assert queue.settled[1].outcome is Outcome.RETRY
    assert queue.settled[2].outcome is Outcome.RELEASED
    assert bot.api.messages_to(501) == []


async def test_stopping_releases_everything_claimed(bot: RunningBot) -> None:
    queue = ListQueue([Row(1, 501), Row(2, 502)])
    courier, _ = _courier(bot, queue)
    stopped = iter([False, True, True, True])
    await courier.run(lambda: next(stopped))
    assert {row: s.outcome for row, s in queue.settled.items()} == {
        1: Outcome.RELEASED,
        2: Outcome.RELEASED,
    }
    assert bot.api.calls_of("sendMessage") == [] and queue.in_flight == []


async def test_a_bug_in_the_policy_is_a_retry_of_that_row_only(bot: RunningBot) -> None:
    queue = ListQueue([Row(1, 501, broken=True), Row(2, 501)])
    courier, _ = _courier(bot, queue)
    await courier.run(_never)
    # Broken before its request left: nothing can have arrived, so no possible repeat.
    assert queue.settled[1].outcome is Outcome.RETRY and not queue.settled[1].possible_repeat
    assert queue.settled[2].outcome is Outcome.SENT


async def test_a_break_after_the_request_left_may_have_delivered(bot: RunningBot) -> None:
    queue = ListQueue([Row(1, 501), Row(2, 502)], break_settle={1})
    courier, _ = _courier(bot, queue)
    await courier.run(_never)
    # Sent, then recording it broke: retried, marked as a possible repeat...
    assert queue.settled[1].outcome is Outcome.RETRY and queue.settled[1].possible_repeat
    assert queue.settled[2].outcome is Outcome.SENT
    # ...or, for a queue that never repeats, ended as unknown.
    from bot.delivery.send_errors import SendFailure

    never = ListQueue([Row(3, 503)], break_settle={3})
    failures = {**Rules().failures, SendFailure.MAY_HAVE_ARRIVED: Outcome.UNKNOWN}
    courier, _ = _courier(bot, never, failures=failures)
    await courier.run(_never)
    assert never.settled[3].outcome is Outcome.UNKNOWN


async def test_a_failure_may_release_the_row_as_it_was(bot: RunningBot) -> None:
    from bot.delivery.send_errors import SendFailure

    bot.api.fail("sendMessage", status=502)
    queue = ListQueue([Row(1, 501, attempts=3)])
    failures = {**Rules().failures, SendFailure.SERVER_ERROR: Outcome.RELEASED}
    courier, _ = _courier(bot, queue, failures=failures)
    await courier.run(_never)
    now = bot.clock.now()
    released = queue.settled[1]
    assert (released.outcome, released.retry_at) == (Outcome.RELEASED, now)
    assert released.error is not None and released.error.kind is SendFailure.SERVER_ERROR


async def test_a_failure_may_wait_longer_than_the_backoff(bot: RunningBot) -> None:
    from bot.delivery.send_errors import SendFailure

    bot.api.fail("sendMessage", status=400, description="Bad Request: odd")
    queue = ListQueue([Row(1, 501)])
    failures = {**Rules().failures, SendFailure.REJECTED: Outcome.RETRY}
    courier, _ = _courier(
        bot, queue, failures=failures, least_wait={SendFailure.REJECTED: timedelta(minutes=10)}
    )
    await courier.run(_never)
    retried = queue.settled[1]
    assert retried.outcome is Outcome.RETRY and not retried.possible_repeat  # refused: not sent
    assert retried.retry_at == bot.clock.now() + timedelta(minutes=10)


async def test_a_fanout_passes_over_a_blocked_copy(bot: RunningBot) -> None:
    bot.api.blocked.add(601)
    queue = ListQueue([Row(1, 500, copies=(601, 602))])
    courier, _ = _courier(bot, queue)
    await courier.run(_never)
    assert queue.settled[1].outcome is Outcome.SENT
    assert [m["text"] for m in bot.api.messages_to(602)] == ["copy 1"]


async def test_batches_are_drained_unless_one_claim_is_the_pass(bot: RunningBot) -> None:
    queue = ListQueue([Row(n, 500 + n) for n in range(5)])
    courier, _ = _courier(bot, queue, batch_size=2)
    await courier.run(_never)
    assert len(queue.settled) == 5 and queue.claims == 4  # 2, 2, 1, then nothing
    once = ListQueue([Row(n, 500 + n) for n in range(5)])
    courier, _ = _courier(bot, once, batch_size=2, drain=False)
    await courier.run(_never)
    assert len(once.settled) == 2 and once.claims == 1
