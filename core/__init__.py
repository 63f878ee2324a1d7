"""Reelsmith core: the platform-neutral heart, one package per feature.

Top level: `settings` (all configuration), `types` (what crosses process boundaries), `context` (what an
adapter knows about a command's chat), `clock`. Packages, lowest first: `media` (codecs, audio, memes, the
sandbox for members' files), `labelling`, `generation` (diffusers; worker-only), `queue` (Redis, jobs,
replies), `quotas`, `moderation`, `ops` (metrics, health, logs, start-up checks), and `service`, which
assembles the features into what adapters call. Never imports bots/, workers/, discord or telegram.
"""
