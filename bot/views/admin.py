"""Words for the admin side (broadcast progress and summaries), assembled from the content pack."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.content import ContentPack, Html
from bot.domain.audience import Segment
from bot.storage.broadcasts import BroadcastStatus, Delivery, Progress


def segment_name(pack: ContentPack, segment: Segment) -> Html:
    return pack.text(f"broadcast.segment_{segment.value}")


def counts_text(pack: ContentPack, progress: Progress) -> Html:
    return pack.text(
        "broadcast.counts", sent=progress.sent, failed=progress.failed, pending=progress.pending
    )


def summary_text(pack: ContentPack, progress: Progress) -> Html:
    """What the admin is told when a broadcast finishes or is cancelled."""
    broadcast = progress.broadcast
    key = (
        "broadcast.cancelled"
        if broadcast.status is BroadcastStatus.CANCELLED
        else "broadcast.finished"
    )
    lines = [
        pack.text(
            key,
            id=broadcast.broadcast_id,
            segment=segment_name(pack, broadcast.segment),
            counts=counts_text(pack, progress),
        )
    ]
    if progress.failed:
        lines.append(
            pack.text(
                "broadcast.failure_detail",
                unreachable=progress.count(Delivery.UNREACHABLE),
                rejected=progress.count(Delivery.FAILED),
                unknown=progress.count(Delivery.UNKNOWN),
            )
        )
    skipped = progress.count(Delivery.SKIPPED)
    if skipped:
        lines.append(pack.text("broadcast.skipped_detail", skipped=skipped))
    return Html("\n".join(lines))


def broadcasts_list(pack: ContentPack, recent: list[Progress], zone: ZoneInfo) -> Html:
    if not recent:
        return pack.text("broadcasts.empty")
    lines = [pack.text("broadcasts.header")]
    for progress in recent:
        broadcast = progress.broadcast
        lines.append(
            pack.text(
                "broadcasts.line",
                id=broadcast.broadcast_id,
                segment=segment_name(pack, broadcast.segment),
                created=pack.day_time(broadcast.created_at.astimezone(zone)),
                state=pack.text(f"broadcasts.state_{broadcast.status.value}"),
                counts=counts_text(pack, progress),
            )
        )
    return Html("\n".join(lines))
