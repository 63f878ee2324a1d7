"""The JSON job codec against what arq itself writes and reads: jobs, results, stored failures; and what it refuses."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import pickle
from typing import Any

import pytest
from arq.jobs import (
    DeserializationError,
    SerializationError,
    deserialize_job,
    deserialize_job_raw,
    deserialize_result,
    serialize_job,
    serialize_result,
)
from arq.worker import JobExecutionFailed

from core.queue import job_codec

PAYLOAD: dict[str, Any] = {"job_id": "abc123", "prompt": "a fox \u2603", "width": 64, "seed": 7,
                           "notes": [], "priority": 1.5, "requester": {"platform": "web", "user_id": "u"}}


def _result(result: Any, success: bool = False) -> bytes | None:
    return serialize_result("generate", (PAYLOAD,), {}, 2, 1_700_000_000_000, success, result, 1_700_000_000_100,
                            1_700_000_000_200, "abc123:generate", "q", "abc123", serializer=job_codec.dumps)


def test_a_job_round_trips_as_arq_writes_and_reads_it() -> None:
    raw = serialize_job("generate", (PAYLOAD,), {}, None, 1_700_000_000_000, serializer=job_codec.dumps)
    assert raw.startswith(b"{")
    assert deserialize_job_raw(raw, deserializer=job_codec.loads) == ("generate", (PAYLOAD,), {}, None,
                                                                      1_700_000_000_000)
    info = deserialize_job(raw, deserializer=job_codec.loads)
    assert info.enqueue_time == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)


def test_results_and_stored_failures_read_back_as_arq_expects() -> None:
    ok = deserialize_result(_result({"media": 1, "seconds": 0.25}, success=True) or b"",
                            deserializer=job_codec.loads)
    assert ok.success and ok.result == {"media": 1, "seconds": 0.25} and ok.job_id == "abc123"
    # Job.result()/abort() decide by type: an abort must come back as CancelledError.
    aborted = deserialize_result(_result(asyncio.CancelledError()) or b"", deserializer=job_codec.loads)
    assert isinstance(aborted.result, asyncio.CancelledError)
    failed = deserialize_result(_result(JobExecutionFailed("max 3 retries exceeded")) or b"",
                                deserializer=job_codec.loads)
    assert isinstance(failed.result, JobExecutionFailed) and str(failed.result) == "max 3 retries exceeded"
    # Other exception classes are never looked up by the name in the data.
    other = deserialize_result(_result(KeyError("x")) or b"", deserializer=job_codec.loads)
    assert isinstance(other.result, job_codec.JobFailed) and other.result.kind == "KeyError"


@pytest.mark.parametrize("value", [b"bytes", {1, 2}, dt.datetime.now(dt.UTC), math.nan, object()])
def test_anything_but_plain_json_is_refused_when_written(value: Any) -> None:
    with pytest.raises(SerializationError):
        serialize_job("generate", ({"x": value},), {}, None, 0, serializer=job_codec.dumps)


@pytest.mark.parametrize("raw", [
    pickle.dumps({"t": 1, "f": "generate", "a": (), "k": {}, "et": 0}),
    b"\xff\xfe not utf-8",
    b"[1, 2]",
    b'{"t": 1, "f": "generate", "a": [], "k": {}}',
    b'{"t": 1, "f": "generate", "a": "s", "k": {}, "et": 0}',
    b'{"t": true, "f": "generate", "a": [], "k": {}, "et": 0}',
    b'{"t": 1, "f": "generate", "a": [NaN], "k": {}, "et": 0}',
    b"[" * 100_000,
])
def test_records_reelsmith_does_not_write_are_refused(raw: bytes) -> None:
    assert not job_codec.decodes(raw)
    with pytest.raises(DeserializationError):
        deserialize_job_raw(raw, deserializer=job_codec.loads)
