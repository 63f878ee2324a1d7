"""Everything that moves through Redis: the job queue and its fair ordering, job records' JSON codec, blobs,
the reply bus (`replies`), adapters' delivery state, the worker fleet, and the Redis connection (embedded
server included)."""
