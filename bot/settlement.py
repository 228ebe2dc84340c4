"""Who pays for a job, what finishing it costs, and where its session's head goes: pure rules.

Storage backends only apply what these functions decide (in the transaction that changes the job's
status, so the bill, the status and the head can never disagree); no backend decides any of it.

* **Who pays**: the requester, unless someone else was named (an editing session whose owner pays).
  The window and the day count the payer's images; active jobs count the requester's jobs.
* **What it costs**: a success charges every image the API produced, withheld ones too (Ideogram
  bills them), and releases the rest of the reservation. A failure the user did not cause
  (``BotError.refund``) releases everything; one they caused charges the whole reservation. A
  cancelled job (only possible while queued) costs nothing.
* **The session head** follows each new version of a session as it succeeds, to its first shown
  (not withheld) image; a version with no image to show leaves the head where it was.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.store import Job, OutputImage, Requester, SessionHead, Settlement


def payer_of(requester: Requester, payer_user_id: int | None) -> int:
    """The user whose window and daily limits a job counts against."""
    return requester.user_id if payer_user_id is None else payer_user_id


def first_shown(outputs: Sequence[OutputImage]) -> int | None:
    """The lowest index of an image that can be shown (the safety filter withheld the others)."""
    shown = [o.index for o in outputs if o.sha is not None]
    return min(shown) if shown else None


def succeeded(job: Job, outputs: Sequence[OutputImage]) -> Settlement:
    head_index = first_shown(outputs)
    head = SessionHead(job.session_id, head_index) if job.session_id is not None and head_index is not None else None
    return Settlement(charged=len(outputs), head=head)


def failed(job: Job, *, refund: bool) -> Settlement:
    return Settlement(charged=0 if refund else job.images_requested)


def cancelled(job: Job) -> Settlement:
    return Settlement(charged=0)
