"""The S3-API media store (MinIO in deploy/, any S3-compatible service in production), on aiobotocore.

Why aiobotocore: it is botocore (the AWS SDK's request signing, retries, presigning and full S3 API, including
the bucket lifecycle calls the expiry backstop needs) on aiohttp, which the service already runs on; maintained by
aio-libs and typed by types-aiobotocore. obstore (Rust, fast, streams well) has no bucket-management calls, so it
could not set lifecycle rules. The package is imported only when REELSMITH_MEDIA_STORE=s3.

One client per connection settings and event loop is shared by every BlobStore in the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from core.storage.media_store import CHUNK_BYTES, MediaObject, valid_id

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import LifecycleRuleTypeDef

    from core.settings import Settings

log = logging.getLogger(__name__)

PART_BYTES = 8 * 1024 * 1024
"""Multipart upload part size for streamed puts (S3's least is 5 MiB for all but the last part)."""

_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Store:
    """Objects under `prefix` in one bucket."""

    kind = "s3"

    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.media_s3_bucket
        self.prefix = settings.media_s3_prefix
        self.create_bucket = settings.media_s3_create_bucket
        self.lifecycle = settings.media_s3_lifecycle
        self.backstop_days = backstop_days(settings)
        access = settings.media_s3_access_key_id
        secret = settings.media_s3_secret_access_key
        self._client_args: dict[str, Any] = {
            "endpoint_url": settings.media_s3_endpoint_url,
            "region_name": settings.media_s3_region,
            # None: botocore's own chain (environment, profile, instance or pod role).
            "aws_access_key_id": access.get_secret_value() if access else None,
            "aws_secret_access_key": secret.get_secret_value() if secret else None,
            "config": AioConfig(
                # Path-style addressing works on MinIO and every emulator without wildcard DNS.
                s3={"addressing_style": settings.media_s3_addressing_style},
                # botocore >= 1.36 adds CRC checksums to every request by default; several S3-compatible
                # servers refuse them. Checksums only where the API requires one (DeleteObjects).
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"max_attempts": 5, "mode": "standard"},
                signature_version="s3v4",  # presigned URLs too (SigV2 is gone from AWS and optional elsewhere)
            ),
        }
        self._clients: dict[asyncio.AbstractEventLoop, tuple[S3Client, contextlib.AsyncExitStack]] = {}
        self._lock: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self._prepared = False

    def key(self, object_id: str) -> str:
        if not valid_id(object_id):
            raise ValueError(f"not a media id: {object_id!r}")
        return f"{self.prefix}{object_id}"

    async def client(self) -> S3Client:
        """This event loop's client; the first one also checks the bucket and its expiry rule."""
        loop = asyncio.get_running_loop()
        if loop in self._clients:
            return self._clients[loop][0]
        async with self._lock.setdefault(loop, asyncio.Lock()):
            if loop not in self._clients:
                stack = contextlib.AsyncExitStack()
                client = await stack.enter_async_context(get_session().create_client("s3", **self._client_args))
                self._clients[loop] = (client, stack)
                if not self._prepared:
                    await self._prepare(client)
                    self._prepared = True
            return self._clients[loop][0]

    async def _prepare(self, client: S3Client) -> None:
        try:
            await client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _code(exc) not in _MISSING or not self.create_bucket:
                raise
            args: dict[str, Any] = {"Bucket": self.bucket}
            region = self._client_args["region_name"]
            if region and region != "us-east-1":
                args["CreateBucketConfiguration"] = {"LocationConstraint": region}
            with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
                await client.create_bucket(**args)
        if self.lifecycle:
            await self._set_lifecycle(client)

    async def _set_lifecycle(self, client: S3Client) -> None:
        """A backstop expiry rule for our prefix (the sweeper deletes on time; this catches what it misses),
        keeping any rules the bucket already has. Servers without lifecycle support are logged, not fatal."""
        rule_id = f"reelsmith-expiry-{self.prefix}".rstrip("/")[:255]
        try:
            try:
                rules = (await client.get_bucket_lifecycle_configuration(Bucket=self.bucket)).get("Rules", [])
            except ClientError as exc:
                if _code(exc) != "NoSuchLifecycleConfiguration":
                    raise
                rules = []
            ours: LifecycleRuleTypeDef = {"ID": rule_id, "Status": "Enabled", "Filter": {"Prefix": self.prefix},
                    "Expiration": {"Days": self.backstop_days},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}
            others = [r for r in rules if r.get("ID") != rule_id]
            await client.put_bucket_lifecycle_configuration(
                Bucket=self.bucket, LifecycleConfiguration={"Rules": [*others, ours]})  # type: ignore[list-item]
        except ClientError as exc:
            log.warning("media bucket %s: no lifecycle rule set (%s); expired media are deleted by the sweeper only",
                        self.bucket, _code(exc) or exc)

    async def put(self, object_id: str, data: bytes | AsyncIterable[bytes], mime: str) -> int:
        client, key = await self.client(), self.key(object_id)
        if isinstance(data, bytes | bytearray | memoryview):
            await client.put_object(Bucket=self.bucket, Key=key, Body=bytes(data), ContentType=mime)
            return len(data)
        return await self._put_stream(client, key, data, mime)

    async def _put_stream(self, client: S3Client, key: str, data: AsyncIterable[bytes], mime: str) -> int:
        """Small streams in one PUT; larger ones as a multipart upload, holding one part in memory at a time."""
        buf, size, upload_id = bytearray(), 0, None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in data:
                buf += chunk
                size += len(chunk)
                if len(buf) >= PART_BYTES:
                    if upload_id is None:
                        upload_id = (await client.create_multipart_upload(
                            Bucket=self.bucket, Key=key, ContentType=mime))["UploadId"]
                    part = await client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                    PartNumber=len(parts) + 1, Body=bytes(buf))
                    parts.append({"ETag": part["ETag"], "PartNumber": len(parts) + 1})
                    buf.clear()
            if upload_id is None:
                await client.put_object(Bucket=self.bucket, Key=key, Body=bytes(buf), ContentType=mime)
                return size
            if buf:
                part = await client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                PartNumber=len(parts) + 1, Body=bytes(buf))
                parts.append({"ETag": part["ETag"], "PartNumber": len(parts) + 1})
            await client.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                   MultipartUpload={"Parts": parts})  # type: ignore[typeddict-item]
            return size
        except BaseException:
            if upload_id is not None:
                with contextlib.suppress(Exception):
                    await client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise

    async def open(self, object_id: str) -> MediaObject | None:
        if not valid_id(object_id):
            return None
        client = await self.client()
        try:
            resp = await client.get_object(Bucket=self.bucket, Key=self.key(object_id))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise
        body = resp["Body"]
        return MediaObject(size=int(resp["ContentLength"]), chunks=_chunks(body), release=body.close)

    async def exists(self, object_id: str) -> bool:
        if not valid_id(object_id):
            return False
        client = await self.client()
        try:
            await client.head_object(Bucket=self.bucket, Key=self.key(object_id))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return False
            raise
        return True

    async def delete(self, object_ids: Sequence[str]) -> None:
        keys = [self.key(i) for i in object_ids if valid_id(i)]
        if not keys:
            return
        client = await self.client()
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = keys[start:start + 1000]
            resp = await client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
            errors = [e for e in resp.get("Errors", []) if e.get("Code") not in _MISSING]
            if errors:
                raise RuntimeError(f"media bucket {self.bucket}: {len(errors)} objects not deleted: {errors[0]}")

    async def presign(self, object_id: str, ttl_s: int, mime: str) -> str | None:
        client = await self.client()
        return await client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.key(object_id), "ResponseContentType": mime},
            ExpiresIn=ttl_s)

    async def close(self) -> None:
        """Close this loop's client (the others belong to loops that close their own)."""
        loop = asyncio.get_running_loop()
        entry = self._clients.pop(loop, None)
        if entry is not None:
            await entry[1].aclose()


def backstop_days(settings: Settings) -> int:
    """Days after which the bucket's lifecycle rule deletes an object the sweeper missed: a day past the longest
    any medium is kept."""
    longest = max(settings.blob_ttl_s, settings.result_ttl_s, settings.avatar_pending_ttl_s)
    return math.ceil(longest / 86400) + 1


async def _chunks(body: Any) -> AsyncIterator[bytes]:
    try:
        async for chunk in body.iter_chunks(CHUNK_BYTES):
            yield chunk
    finally:
        body.close()


_shared: dict[tuple[Any, ...], S3Store] = {}


def shared_s3_store(settings: Settings) -> S3Store:
    """One S3Store (and so one connection pool per loop) per bucket, prefix and credentials in this process."""
    access, secret = settings.media_s3_access_key_id, settings.media_s3_secret_access_key
    config = (settings.media_s3_endpoint_url, settings.media_s3_region, settings.media_s3_bucket,
              settings.media_s3_prefix, access.get_secret_value() if access else None,
              secret.get_secret_value() if secret else None, settings.media_s3_addressing_style,
              settings.media_s3_lifecycle, backstop_days(settings))
    store = _shared.get(config)
    if store is None:
        store = _shared[config] = S3Store(settings)
    return store


async def close_shared() -> None:
    """Close every shared store's client on this loop (process or test-session shutdown)."""
    for store in list(_shared.values()):
        await store.close()
