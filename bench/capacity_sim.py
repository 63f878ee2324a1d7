"""Replays a day of bursty traffic from a large community against N GPUs; prints wait percentiles per tier.

    .venv/bin/python bench/capacity_sim.py [--members 100000] [--gpus 4 8 16] [--seed 1]

A pure simulation (no Redis, no models), fast: the service's queue is modelled as fair share between members
weighted by tier (like core/queue/fairness.py), the GPUs as servers taking the next job when free.

Traffic: each member is active on a day with a probability set by their tier; active members send a few jobs
(geometric), at times drawn from a daily curve (quiet at night, an evening peak) with bursts: a third of the
jobs come in short storms (a release, a contest: hundreds of members within minutes). Jobs are image or
video by tier mix, and their GPU seconds come from the per-model table below (bench/README.md's published
anchors, marked there: the GPU bench table is empty until a GPU is lent).
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
from collections import defaultdict
from dataclasses import dataclass

DAY_S = 24 * 3600

# GPU seconds per job on one H100-class GPU, from the anchors in bench/README.md (published, not measured here).
GPU_S = {
    "sdxl-turbo 512² 1 step": 0.21,
    "flux-schnell 1024² 4 steps": 1.5,
    "sdxl 1024² 30 steps": 2.43,
    "flux-dev 1024² 28 steps": 4.30,
    "ltx-video 5 s 768x512": 2.0 * 3,  # the anchor's ~2 s is the transformer alone; x3 for VAE decode + encode
}


@dataclass(frozen=True)
class Tier:
    name: str
    share: float  # of members
    active: float  # chance a member of the tier sends anything on a given day
    jobs_mean: float  # jobs per active member per day
    weight: float  # fair-queue weight
    mix: tuple[tuple[str, float], ...]  # model -> share of the tier's jobs


TIERS = (
    Tier("default", 0.93, 0.03, 3.0, 1.0, (("flux-schnell 1024² 4 steps", 0.7), ("sdxl-turbo 512² 1 step", 0.25),
                                          ("ltx-video 5 s 768x512", 0.05))),
    Tier("supporter", 0.06, 0.15, 8.0, 2.0, (("flux-dev 1024² 28 steps", 0.5), ("flux-schnell 1024² 4 steps", 0.3),
                                             ("ltx-video 5 s 768x512", 0.2))),
    Tier("moderator", 0.01, 0.3, 5.0, 4.0, (("flux-dev 1024² 28 steps", 0.6), ("sdxl 1024² 30 steps", 0.4))),
)


def daily_rate(t: float) -> float:
    """Relative traffic at time of day t (s): low at night, a peak around 20:00."""
    hour = t / 3600
    evening = min((hour - 20) % 24, (20 - hour) % 24)  # hours from 20:00, around midnight too
    return 0.25 + math.exp(-evening**2 / 8) + 0.5 * math.exp(-((hour - 13) ** 2) / 10)


def arrivals(rng: random.Random, members: int) -> list[tuple[float, int, Tier, float]]:
    """(time, member, tier, gpu seconds) for every job of the day, sorted by time."""
    peak = max(daily_rate(h * 60) for h in range(24 * 60))
    storms = [rng.uniform(8 * 3600, DAY_S) for _ in range(6)]
    jobs = []
    for member in range(members):
        tier = rng.choices(TIERS, weights=[t.share for t in TIERS])[0]
        if rng.random() >= tier.active:
            continue
        count = 1 + int(rng.expovariate(1 / max(tier.jobs_mean - 1, 0.01)))
        storm = rng.choice(storms) if rng.random() < 1 / 3 else None
        for _ in range(count):
            if storm is not None:
                t = storm + rng.expovariate(1 / 240)  # within minutes of the storm's start
            else:
                while True:  # rejection sampling from the daily curve
                    t = rng.uniform(0, DAY_S)
                    if rng.random() < daily_rate(t) / peak:
                        break
            model = rng.choices([m for m, _ in tier.mix], weights=[w for _, w in tier.mix])[0]
            jobs.append((t % DAY_S, member, tier, GPU_S[model] * rng.uniform(0.9, 1.2)))
    jobs.sort(key=lambda j: j[0])
    return jobs


def simulate(jobs: list[tuple[float, int, Tier, float]], gpus: int) -> dict[str, list[float]]:
    """Waits (s) per tier: fair share by virtual time (cost / weight per member), `gpus` servers.

    Discrete events: the next thing is either an arrival or the earliest GPU coming free while jobs wait.
    """
    free_at = [0.0] * gpus
    vtime: dict[int, float] = defaultdict(float)
    clock_v = 0.0
    queue: list[tuple[float, int, float, Tier, float]] = []  # (fair tag, seq, arrival, tier, gpu s)
    waits: dict[str, list[float]] = defaultdict(list)
    i = 0
    while i < len(jobs) or queue:
        if queue and (i >= len(jobs) or free_at[0] <= jobs[i][0]):
            tag, _seq, arrived, tier, cost = heapq.heappop(queue)
            start = max(heapq.heappop(free_at), arrived)
            clock_v = max(clock_v, tag)
            waits[tier.name].append(start - arrived)
            heapq.heappush(free_at, start + cost)
            continue
        t, member, tier, cost = jobs[i]
        # A member's tag starts at the queue's virtual clock: idle members do not bank credit.
        vtime[member] = max(vtime[member], clock_v) + cost / tier.weight
        heapq.heappush(queue, (vtime[member], i, t, tier, cost))
        i += 1
    return waits


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100 * len(s)))] if s else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--gpus", type=int, nargs="+", default=[2, 4, 8, 16])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    jobs = arrivals(random.Random(args.seed), args.members)
    gpu_s = sum(j[3] for j in jobs)
    peak_hour = max(sum(j[3] for j in jobs if h * 3600 <= j[0] < (h + 1) * 3600) for h in range(24))
    print(f"{args.members} members, {len(jobs)} jobs in the day, {gpu_s / 3600:.1f} GPU-hours "
          f"(the busiest hour alone needs {peak_hour / 3600:.1f} GPUs busy all hour; storms need more)\n")
    print("| GPUs | tier | jobs | wait p50 s | p90 s | p99 s | max s |\n| --- | --- | --- | --- | --- | --- | --- |")
    for n in args.gpus:
        waits = simulate(jobs, n)
        for tier in TIERS:
            w = waits[tier.name]
            print(f"| {n} | {tier.name} | {len(w)} | {pct(w, 50):.1f} | {pct(w, 90):.1f} | {pct(w, 99):.1f} | "
                  f"{max(w, default=float('nan')):.1f} |")


if __name__ == "__main__":
    main()
