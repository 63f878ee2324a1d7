"""An arq Worker that re-reads the queue for every free slot, so fair scores (core/fairness.py) take effect.

Stock arq reads up to 100 job ids per poll and then walks that list, waiting for a free slot before
each one: jobs queued meanwhile cannot overtake, however low their score. This worker starts only as
many jobs as it has free slots and reads the queue again on the next poll (every `poll_delay_s`).
"""

from __future__ import annotations

from arq.worker import Worker


class FairWorker(Worker):
    async def start_jobs(self, job_ids: list[bytes]) -> None:
        for job_id in job_ids:
            if self.job_counter >= self.max_jobs:
                return  # the rest of this list may be stale by the time a slot frees up
            await super().start_jobs([job_id])
