"""arq's job and result serializer: strict JSON instead of pickle.

arq pickles job records by default, and unpickling runs whatever the bytes say, so anyone who could
write the queue in Redis would run code on every worker. Here a job record (`{"t": job_try, "f":
function, "a": args, "k": kwargs, "et": enqueue ms}`) and a result record (the same plus success,
result, start/finish ms, queue and id) are plain JSON: decoding builds only dicts, lists, strings,
numbers, booleans and None, so a crafted record can at worst be refused.

The one non-JSON value arq itself puts in a record is the exception a failed job is stored with; it is
written as `{"__reelsmith_error__": class name, "message": text}` and read back as one of a fixed set of
exception classes (never a class named by the data). Anything else that is not plain JSON (bytes,
sets, datetimes, NaN) is refused loudly when written.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from arq.worker import JobExecutionFailed

ERROR_TAG = "__reelsmith_error__"

# Exceptions read back as themselves: arq's Job.result() and abort() tell outcomes apart by these types.
_KNOWN_ERRORS: dict[str, type[BaseException]] = {
    "CancelledError": asyncio.CancelledError,
    "TimeoutError": TimeoutError,
    "JobExecutionFailed": JobExecutionFailed,
}
# The fields arq reads from every job and result record, with the JSON types they must have.
_RECORD_FIELDS: dict[str, tuple[type, ...]] = {
    "t": (int, type(None)), "f": (str,), "a": (list,), "k": (dict,), "et": (int,),
}


class JobCodecError(ValueError):
    """A job or result record that is not what Reelsmith writes: refused, never executed."""


class JobFailed(RuntimeError):
    """A job's stored failure whose exception class is not one of the few read back as themselves."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind


def dumps(record: dict[str, Any]) -> bytes:
    """Encode an arq job or result record; raises TypeError/ValueError for anything that is not plain JSON."""
    return json.dumps(record, default=_encode_other, allow_nan=False, ensure_ascii=False,
                      separators=(",", ":")).encode()


def loads(raw: bytes) -> dict[str, Any]:
    """Decode an arq job or result record; raises JobCodecError for anything Reelsmith does not write."""
    try:
        record = json.loads(raw, object_hook=_decode_error, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise JobCodecError(f"not a JSON job record ({_describe(raw)}): {exc}") from None
    if not isinstance(record, dict):
        raise JobCodecError(f"a job record must be a JSON object, not {type(record).__name__}")
    for field, types in _RECORD_FIELDS.items():
        if field not in record:
            raise JobCodecError(f"job record has no {field!r} field")
        if not isinstance(record[field], types) or isinstance(record[field], bool):
            raise JobCodecError(f"job record field {field!r} has the wrong type ({type(record[field]).__name__})")
    record["a"] = tuple(record["a"])  # arq hands args on as a tuple, as it serialized them
    return record


def decodes(raw: bytes) -> bool:
    """Whether `raw` is a record `loads` accepts."""
    try:
        loads(raw)
    except JobCodecError:
        return False
    return True


def _encode_other(value: object) -> object:
    if isinstance(value, BaseException):
        return {ERROR_TAG: type(value).__name__, "message": str(value)}
    raise TypeError(f"{type(value).__name__} is not a plain JSON type; job payloads and results must be JSON")


def _decode_error(obj: dict[str, Any]) -> object:
    if ERROR_TAG not in obj:
        return obj
    kind, message = str(obj[ERROR_TAG]), str(obj.get("message", ""))
    known = _KNOWN_ERRORS.get(kind)
    return known(message) if known is not None else JobFailed(kind, message)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _describe(raw: bytes) -> str:
    # Protocol 2+ pickles start with the PROTO opcode: say so, it is what an attack (or an old arq record) looks like.
    return "a pickle" if raw[:1] == b"\x80" else f"{len(raw)} bytes"
