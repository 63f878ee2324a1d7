"""The security suite: each test drives a real adapter (Telegram or Discord fake, the playground over HTTP)
with a real Redis and a real worker, the way an attacker would, and fails on the code before its fix.

Area helpers live in their own modules (`tests/security/<area>_helpers.py`); fixtures from the
adapters' suites are imported from there.
"""
