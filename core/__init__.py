"""Reelsmith core: platform-neutral types, grammar, policy, pipeline and queue client."""
