"""The deployment files hold together: schemas, required keys, probes on served paths, GPU requests,
KEDA on the real queue, every setting documented, the dashboard on real metrics."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from unittest import mock

import kubernetes_validate
import pytest
import yaml

from core.ops.config_check import known_env_names, unknown_env_settings
from core.ops.health import HEALTH_PATH, LIVE_PATH, METRICS_PATH
from core.ops.metrics import METRIC_NAMES
from core.settings import Settings
from tests.ops import kustomize_lite

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
K8S_VERSION = "1.31.0"
DEFAULTS = Settings(_env_file=None)


def _is_setting(name: str) -> bool:
    return name.upper().startswith("REELSMITH_") or name.upper() in ("REDIS_URL",)


# ---- docker compose ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "docker-compose.yml").read_text()))


def _healthcheck_port(service: dict[str, Any]) -> int:
    test = " ".join(service["healthcheck"]["test"])
    match = re.search(r"127\.0\.0\.1:(\d+)" + re.escape(HEALTH_PATH), test)
    assert match, test
    return int(match.group(1))


def test_compose_services_and_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"redis", "minio", "playground", "telegram", "discord", "worker"} <= set(services)
    redis = services["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command and "--requirepass ${REDIS_PASSWORD" in command
    assert any(v.endswith(":/data") for v in redis["volumes"])
    assert "ports" not in redis  # never published by default
    for name, service in services.items():
        assert "healthcheck" in service, name
        if name not in ("redis", "minio"):
            assert service["depends_on"]["redis"]["condition"] == "service_healthy", name
            assert service["environment"]["REDIS_URL"].startswith("redis://:${REDIS_PASSWORD}@redis:6379")


def test_compose_media_go_to_minio_with_its_keys(compose: dict[str, Any]) -> None:
    services = compose["services"]
    minio = services["minio"]
    assert "ports" not in minio and any(v.endswith(":/data") for v in minio["volumes"])
    for name, service in services.items():
        if name in ("redis", "minio"):
            continue
        env = service["environment"]
        assert service["depends_on"]["minio"]["condition"] == "service_healthy", name
        assert env["REELSMITH_MEDIA_STORE"] == "s3" and env["REELSMITH_MEDIA_S3_ENDPOINT_URL"] == "http://minio:9000"
        assert env["REELSMITH_MEDIA_S3_ACCESS_KEY_ID"] == "${MINIO_ROOT_USER}", name
        assert env["REELSMITH_MEDIA_S3_SECRET_ACCESS_KEY"] == "${MINIO_ROOT_PASSWORD}", name


def test_compose_worker_has_a_gpu_and_a_model_cache(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    [device] = worker["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert worker["command"] == ["reelsmith", "worker"]
    assert worker["environment"]["HF_HOME"] == "/models"
    assert "model-cache:/models" in worker["volumes"] and "model-cache" in compose["volumes"]


def test_compose_health_checks_hit_the_served_port(compose: dict[str, Any]) -> None:
    services = compose["services"]
    # The playground's own port needs its access token, which a health check does not carry: its health port.
    playground = services["playground"]
    assert _healthcheck_port(playground) == int(playground["environment"]["REELSMITH_HEALTH_PORT"])
    for name in ("telegram", "discord", "worker"):
        env = services[name]["environment"]
        assert env["REELSMITH_HEALTH_HOST"] == "0.0.0.0", name
        assert _healthcheck_port(services[name]) == int(env["REELSMITH_HEALTH_PORT"]), name
    assert services["telegram"]["command"][-1] == "telegram" and services["telegram"]["profiles"] == ["telegram"]
    assert services["discord"]["command"][-1] == "discord" and services["discord"]["profiles"] == ["discord"]


@pytest.mark.parametrize("path", ["docker-compose.yml", "docker-compose.worker.yml"])
def test_compose_settings_and_variables_are_known(path: str) -> None:
    text = (DEPLOY / path).read_text()
    doc = yaml.safe_load(text)
    env_example = _env_example_names()
    for name, service in doc["services"].items():
        env = service.get("environment", {})
        assert unknown_env_settings(env) == [], (path, name)
        dockerfile = ROOT / "deploy" / ".." / service["build"]["dockerfile"] if "build" in service else None
        assert dockerfile is None or dockerfile.is_file(), (path, name)
    # Every ${VAR} compose substitutes is documented in the example env file.
    for var in set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text)):
        assert var in env_example, f"{path} uses ${{{var}}}, not in deploy/.env.example"


def test_remote_worker_compose_needs_redis_url_and_a_name() -> None:
    worker = yaml.safe_load((DEPLOY / "docker-compose.worker.yml").read_text())["services"]["worker"]
    assert "depends_on" not in worker  # Redis lives on another machine
    assert worker["environment"]["REDIS_URL"].startswith("${REDIS_URL:?")
    assert worker["environment"]["REELSMITH_WORKER_NAME"].startswith("${REELSMITH_WORKER_NAME:?")
    assert worker["deploy"]["resources"]["reservations"]["devices"][0]["driver"] == "nvidia"


# ---- .env.example --------------------------------------------------------------------------
def _env_example_names() -> set[str]:
    names = set()
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line)
        if match:
            names.add(match.group(1))
    return names


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    names = _env_example_names()
    expected = {("REDIS_URL" if f == "redis_url" else f"REELSMITH_{f.upper()}") for f in Settings.model_fields}
    assert expected - names == set(), "settings missing from deploy/.env.example"
    stale = {n for n in names if _is_setting(n)} - known_env_names()
    assert stale == set(), "deploy/.env.example names settings that do not exist"


def test_env_example_comments_every_group() -> None:
    # Each run of settings (set or commented out) follows a prose comment that explains it.
    run = 0
    after_prose = False
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if re.match(r"^#?\s*[A-Z][A-Z0-9_]*=", line):
            assert after_prose, f"no comment above: {line}"
            run += 1
            assert run <= 6, f"too many settings under one comment: {line}"
        elif line.startswith("#"):
            after_prose, run = True, 0
        else:
            after_prose, run = False, 0


def test_env_example_values_parse(tmp_path: Path) -> None:
    # Read the active lines the way the service reads a .env (JSON lists and dicts decoded).
    lines = [line for line in (DEPLOY / ".env.example").read_text().splitlines()
             if re.match(r"^REELSMITH_[A-Z0-9_]+=", line)]
    env = tmp_path / ".env"
    env.write_text("\n".join(lines) + "\n")
    settings = Settings(_env_file=env)
    assert settings.discord_attachment_hosts  # a JSON list parsed, not taken as a string


# ---- Dockerfiles ---------------------------------------------------------------------------
def _instructions(path: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


@pytest.mark.parametrize("name", ["Dockerfile.bot", "Dockerfile.worker"])
def test_dockerfiles(name: str) -> None:
    steps = _instructions(DEPLOY / name)
    final_stage = steps[max(i for i, (op, _) in enumerate(steps) if op == "FROM"):]
    users = [arg for op, arg in final_stage if op == "USER"]
    assert users and users[-1] not in ("root", "0"), "runs as root"
    cmd = json.loads([arg for op, arg in final_stage if op == "CMD"][-1])
    assert cmd[0] == "reelsmith"
    for op, arg in steps:  # every file the image copies exists
        if op == "COPY" and not arg.startswith("--from"):
            for src in arg.split()[:-1]:
                assert (ROOT / src).exists(), src
    torch = [arg for op, arg in steps if op == "RUN" and "torch==" in arg]
    assert torch, "torch must be pinned"
    env = " ".join(arg for op, arg in final_stage if op == "ENV")
    if name == "Dockerfile.bot":
        assert "whl/cpu" in torch[0]  # slim: no CUDA libraries in the bot image
    else:
        assert "HF_HOME=/models" in env and ("VOLUME", "/models") in final_stage
        assert "NVIDIA_VISIBLE_DEVICES=all" in env


# ---- Kubernetes ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def k8s() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk, "every manifest is listed in kustomization.yaml, and only those"
    docs = []
    for name in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    return docs


def _one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [doc] = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def test_k8s_builtin_objects_match_the_schema(k8s: list[dict[str, Any]]) -> None:
    checked = 0
    for doc in k8s:
        if doc["apiVersion"].startswith("keda.sh/"):
            continue
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)  # raises on unknown or wrong fields
        checked += 1
    assert checked >= 10


def test_k8s_redis_persists_with_a_password(k8s: list[dict[str, Any]]) -> None:
    redis = _one(k8s, "StatefulSet", "redis")
    [container] = redis["spec"]["template"]["spec"]["containers"]
    args = " ".join(container["args"])
    assert "--appendonly yes" in args and "--requirepass $(REDIS_PASSWORD)" in args
    assert redis["spec"]["volumeClaimTemplates"] and redis["spec"]["replicas"] == 1
    secret = _one(k8s, "Secret", "reelsmith-secrets")
    assert "REDIS_PASSWORD" in secret["stringData"]


def _deployment_containers(k8s: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(d["metadata"]["name"], c) for d in k8s if d["kind"] == "Deployment"
            for c in d["spec"]["template"]["spec"]["containers"]]


def test_k8s_probes_hit_served_paths_and_ports(k8s: list[dict[str, Any]]) -> None:
    config = _one(k8s, "ConfigMap", "reelsmith-config")["data"]
    health_port = int(config.get("REELSMITH_HEALTH_PORT", DEFAULTS.health_port))
    containers = _deployment_containers(k8s)
    assert {name for name, _ in containers} == {"playground", "telegram", "discord", "worker"}
    for name, c in containers:
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        served = health_port  # the playground's port needs its access token, which probes do not carry
        assert c["readinessProbe"]["httpGet"]["path"] == HEALTH_PATH, name
        assert c["livenessProbe"]["httpGet"]["path"] in (LIVE_PATH, HEALTH_PATH), name
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if probe in c:
                assert ports[c[probe]["httpGet"]["port"]] == served, (name, probe)
        pod = next(d for d in k8s if d["kind"] == "Deployment" and d["metadata"]["name"] == name)
        annotations = pod["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/path"] == METRICS_PATH and int(annotations["prometheus.io/port"]) == served


def test_k8s_settings_are_known(k8s: list[dict[str, Any]]) -> None:
    config = _one(k8s, "ConfigMap", "reelsmith-config")["data"]
    assert unknown_env_settings(config) == []
    Settings(_env_file=None, **{k.removeprefix("REELSMITH_").lower(): v for k, v in config.items()})
    for name, c in _deployment_containers(k8s):
        env = {e["name"]: e.get("value", "") for e in c.get("env", [])}
        assert unknown_env_settings(env) == [], name
        assert env["REDIS_URL"].startswith("redis://:$(REDIS_PASSWORD)@redis:6379"), name
        names = [e["name"] for e in c["env"]]
        assert names.index("REDIS_PASSWORD") < names.index("REDIS_URL"), "$(VAR) needs VAR defined first"
        if name in ("telegram", "discord"):
            assert f"REELSMITH_{name.upper()}_TOKEN" in env and c["args"] == ["reelsmith", "bot", name]


def test_k8s_media_go_to_minio_with_the_secret_keys(k8s: list[dict[str, Any]]) -> None:
    config = _one(k8s, "ConfigMap", "reelsmith-config")["data"]
    service = _one(k8s, "Service", "minio")
    assert config["REELSMITH_MEDIA_STORE"] == "s3"
    assert config["REELSMITH_MEDIA_S3_ENDPOINT_URL"] == f"http://minio:{service['spec']['ports'][0]['port']}"
    secret = _one(k8s, "Secret", "reelsmith-secrets")["stringData"]
    keys = ("REELSMITH_MEDIA_S3_ACCESS_KEY_ID", "REELSMITH_MEDIA_S3_SECRET_ACCESS_KEY")
    for name, c in _deployment_containers(k8s):
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in c["env"] if "valueFrom" in e
                and "secretKeyRef" in e["valueFrom"]}
        assert all(refs.get(k) == k and k in secret for k in keys), name
    [minio] = _one(k8s, "StatefulSet", "minio")["spec"]["template"]["spec"]["containers"]
    root = {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in minio["env"]}
    assert (root["MINIO_ROOT_USER"], root["MINIO_ROOT_PASSWORD"]) == keys  # the same keys on both sides


def test_k8s_pods_get_no_service_link_variables(k8s: list[dict[str, Any]]) -> None:
    # Service links would inject e.g. REELSMITH_WEB_PORT=tcp://... for a Service named reelsmith-web.
    for d in k8s:
        if d["kind"] == "Deployment":
            assert d["spec"]["template"]["spec"]["enableServiceLinks"] is False, d["metadata"]["name"]


def test_k8s_worker_requests_a_gpu(k8s: list[dict[str, Any]]) -> None:
    worker = _one(k8s, "Deployment", "worker")
    [c] = worker["spec"]["template"]["spec"]["containers"]
    assert int(c["resources"]["limits"]["nvidia.com/gpu"]) >= 1
    assert c["args"] == ["reelsmith", "worker"]
    env = {e["name"]: e for e in c["env"]}
    assert env["REELSMITH_WORKER_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert {"/models", "/dev/shm"} <= mounts and env["HF_HOME"]["value"] == "/models"
    grace = worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= DEFAULTS.job_timeout_s


def test_keda_scales_the_worker_on_the_arq_queue(k8s: list[dict[str, Any]]) -> None:
    [scaled] = [d for d in k8s if d["kind"] == "ScaledObject"]
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"]["name"] == _one(k8s, "Deployment", "worker")["metadata"]["name"]
    assert 0 <= scaled["spec"]["minReplicaCount"] < scaled["spec"]["maxReplicaCount"]
    [trigger] = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis"
    config = _one(k8s, "ConfigMap", "reelsmith-config")["data"]
    assert trigger["metadata"]["listName"] == config.get("REELSMITH_QUEUE_NAME", DEFAULTS.queue_name)
    assert int(trigger["metadata"]["listLength"]) >= 1
    host, port = trigger["metadata"]["address"].rsplit(":", 1)
    redis_service = _one(k8s, "Service", "redis")
    namespace = yaml.safe_load((K8S / "kustomization.yaml").read_text())["namespace"]
    assert host == f"{redis_service['metadata']['name']}.{namespace}.svc.cluster.local"
    assert int(port) == redis_service["spec"]["ports"][0]["port"]
    auth = _one(k8s, "TriggerAuthentication", trigger["authenticationRef"]["name"])
    [ref] = auth["spec"]["secretTargetRef"]
    assert ref["parameter"] == "password"
    assert ref["key"] in _one(k8s, "Secret", ref["name"])["stringData"]


# ---- Kubernetes overlays: Sentinel, managed Redis over TLS ---------------------------------------
OVERLAYS = ("k8s-sentinel", "k8s-managed-redis")
SETTING_NAME = re.compile(r"\b(REELSMITH_[A-Z0-9_]+|REDIS_URL)\b")


@pytest.fixture(scope="module")
def sentinel() -> list[dict[str, Any]]:
    return kustomize_lite.build(DEPLOY / "k8s-sentinel")


@pytest.fixture(scope="module")
def managed() -> list[dict[str, Any]]:
    return kustomize_lite.build(DEPLOY / "k8s-managed-redis")


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def _config_values(docs: list[dict[str, Any]]) -> Settings:
    """The settings a pod reads from the ConfigMap (envFrom: environment variables, JSON lists decoded)."""
    config = _one(docs, "ConfigMap", "reelsmith-config")["data"]
    with mock.patch.dict(os.environ, config):
        return Settings(_env_file=None)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_lists_exactly_its_files_and_builds_on_the_base(overlay: str) -> None:
    root = DEPLOY / overlay
    k = kustomize_lite.kustomization(root)
    assert "../k8s" in k["resources"] and "namespace" not in k  # the base's namespace and images carry over
    listed = {r for r in k["resources"] if r != "../k8s"} | {p["path"] for p in k["patches"]}
    on_disk = {p.name for p in root.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk, "every file is listed in the overlay's kustomization.yaml, and only those"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_objects_match_the_schema(overlay: str) -> None:
    docs = kustomize_lite.build(DEPLOY / overlay)
    builtin = [d for d in docs if not d["apiVersion"].startswith("keda.sh/")]
    for doc in builtin:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    assert len(builtin) >= 15 and any(d["apiVersion"].startswith("keda.sh/") for d in docs)


@pytest.mark.parametrize("overlay", ("k8s", *OVERLAYS))
def test_overlay_build_is_what_kustomize_builds(overlay: str) -> None:
    # kustomize_lite is only worth its tests if it builds what kubectl applies.
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: the overlays are built by tests/ops/kustomize_lite.py only")
    out = subprocess.run(["kubectl", "kustomize", str(DEPLOY / overlay)], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    def key(d: dict[str, Any]) -> tuple[str, str]:
        return d["kind"], d["metadata"]["name"]
    theirs = sorted((d for d in yaml.safe_load_all(out) if d), key=key)
    assert sorted(kustomize_lite.build(DEPLOY / overlay), key=key) == theirs


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_names_only_known_settings(overlay: str) -> None:
    # Every setting an overlay names (set, referenced or in a comment) is one the service reads.
    named = set()
    for path in (DEPLOY / overlay).glob("*.yaml"):
        named |= {n for n in SETTING_NAME.findall(path.read_text()) if n != "REDIS_URL"}
    assert named and named - known_env_names() == set()
    docs = kustomize_lite.build(DEPLOY / overlay)
    config = _one(docs, "ConfigMap", "reelsmith-config")["data"]
    assert unknown_env_settings(config) == []
    _config_values(docs)  # and the values parse
    for d in docs:
        for c in d.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            assert unknown_env_settings({e["name"]: "" for e in c.get("env", [])}) == [], d["metadata"]["name"]


def _sentinel_script(docs: list[dict[str, Any]], name: str) -> str:
    return str(_one(docs, "ConfigMap", "redis-ha-scripts")["data"][name])


def test_sentinel_overlay_runs_three_redis_with_aof_and_noeviction(sentinel: list[dict[str, Any]]) -> None:
    redis = _one(sentinel, "StatefulSet", "redis")
    [c] = redis["spec"]["template"]["spec"]["containers"]
    args = " ".join(c["args"])
    assert redis["spec"]["replicas"] == 3 and int(_env(c)["REDIS_REPLICAS"]["value"]) == 3
    assert "--appendonly yes" in args and "--maxmemory-policy noeviction" in args
    assert "--requirepass $(REDIS_PASSWORD)" in args and redis["spec"]["volumeClaimTemplates"]
    assert _env(c)["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "reelsmith-secrets",
                                                                       "key": "REDIS_PASSWORD"}
    # Started through redis.sh, which adds replication to the base's args; its stable names need a headless Service.
    assert c["command"] == ["sh", "/scripts/redis.sh"] and "/scripts" in {m["mountPath"] for m in c["volumeMounts"]}
    assert '--replicaof "$master" 6379' in _sentinel_script(sentinel, "redis.sh")
    # A master cut off from its replicas stops taking writes before the Sentinels' 5 s have promoted another.
    assert "--min-replicas-to-write 1 --min-replicas-max-lag 3" in _sentinel_script(sentinel, "redis.sh")
    service = _one(sentinel, "Service", redis["spec"]["serviceName"])
    assert service["spec"]["clusterIP"] == "None" and service["spec"]["publishNotReadyAddresses"] is True
    assert _one(sentinel, "PodDisruptionBudget", "redis")["spec"]["maxUnavailable"] == 1


def test_sentinel_quorum_master_and_addresses_agree_with_the_config(sentinel: list[dict[str, Any]]) -> None:
    settings = _config_values(sentinel)
    sts = _one(sentinel, "StatefulSet", "redis-sentinel")
    [c] = sts["spec"]["template"]["spec"]["containers"]
    env = _env(c)
    replicas, quorum = sts["spec"]["replicas"], int(env["SENTINEL_QUORUM"]["value"])
    assert (replicas, quorum) == (3, 2) and replicas // 2 < quorum <= replicas  # a majority
    # The master's name and the Sentinel list reach the pods from the ConfigMap itself, never a copy.
    for name in ("REELSMITH_REDIS_SENTINELS", "REELSMITH_REDIS_SENTINEL_MASTER"):
        assert env[name]["valueFrom"]["configMapKeyRef"] == {"name": "reelsmith-config", "key": name}
    script = _sentinel_script(sentinel, "sentinel.sh")
    assert "name=$REELSMITH_REDIS_SENTINEL_MASTER" in script
    assert "sentinel monitor $name $master 6379 $SENTINEL_QUORUM" in script
    assert settings.redis_sentinel_master == "reelsmith"
    service = _one(sentinel, "Service", sts["spec"]["serviceName"])
    assert service["spec"]["clusterIP"] == "None"
    port = service["spec"]["ports"][0]["port"]
    namespace = kustomize_lite.kustomization(K8S)["namespace"]
    expected = [f"redis-sentinel-{i}.{service['metadata']['name']}.{namespace}.svc.cluster.local:{port}"
                for i in range(replicas)]
    assert settings.redis_sentinels == expected
    redis_replicas = _one(sentinel, "StatefulSet", "redis")["spec"]["replicas"]
    assert int(env["REDIS_REPLICAS"]["value"]) == redis_replicas  # find-master.sh asks each Redis pod
    assert settings.redis_wait_replicas == 1 and settings.redis_wait_replicas < redis_replicas


def test_sentinel_overlay_clients_follow_the_sentinels(sentinel: list[dict[str, Any]]) -> None:
    secret = _one(sentinel, "Secret", "reelsmith-secrets")["stringData"]
    containers = _deployment_containers(sentinel)
    assert {name for name, _ in containers} == {"playground", "telegram", "discord", "worker"}
    for name, c in containers:
        env = _env(c)
        assert "REDIS_URL" not in env, name  # the Sentinels name the master
        for var in ("REELSMITH_REDIS_PASSWORD", "REELSMITH_REDIS_SENTINEL_PASSWORD"):
            ref = env[var]["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "reelsmith-secrets" and ref["key"] in secret, (name, var)
    [s] = _one(sentinel, "StatefulSet", "redis-sentinel")["spec"]["template"]["spec"]["containers"]
    assert _env(s)["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "REDIS_PASSWORD"
    assert 'requirepass "$REDIS_PASSWORD"' in _sentinel_script(sentinel, "sentinel.sh")


def test_keda_reads_the_queue_through_the_sentinels(sentinel: list[dict[str, Any]]) -> None:
    settings = _config_values(sentinel)
    [scaled] = [d for d in sentinel if d["kind"] == "ScaledObject"]
    [trigger] = scaled["spec"]["triggers"]
    meta = trigger["metadata"]
    assert trigger["type"] == "redis-sentinel"
    assert [a.strip() for a in meta["addresses"].split(",")] == settings.redis_sentinels
    assert meta["sentinelMaster"] == settings.redis_sentinel_master and meta["listName"] == settings.queue_name
    auth = _one(sentinel, "TriggerAuthentication", trigger["authenticationRef"]["name"])
    refs = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
    assert set(refs) == {"password", "sentinelPassword"}
    assert all(r["key"] in _one(sentinel, "Secret", r["name"])["stringData"] for r in refs.values())


def _allowed(policy: dict[str, Any]) -> set[str]:
    names = set()
    for rule in policy["spec"]["ingress"]:
        for peer in rule["from"]:
            for expr in peer.get("podSelector", {}).get("matchExpressions", []):
                names |= set(expr["values"])
    return names


def test_sentinel_network_policies_let_replication_and_clients_through(sentinel: list[dict[str, Any]]) -> None:
    policies = [d for d in sentinel if d["kind"] == "NetworkPolicy"]
    def allowed_to(app: str, port: int) -> set[str]:
        return set().union(*(_allowed(p) for p in policies
                             if p["spec"]["podSelector"].get("matchLabels") == {"app.kubernetes.io/name": app}
                             and any(pt["port"] == port for r in p["spec"]["ingress"] for pt in r["ports"])))
    clients = {name for name, _ in _deployment_containers(sentinel)}
    assert {"redis", "redis-sentinel"} <= allowed_to("redis", 6379)
    assert clients | {"redis", "redis-sentinel"} <= allowed_to("redis-sentinel", 26379)


def _run_find_master(tmp_path: Path, sentinel: list[dict[str, Any]], answers: dict[str, str], self_name: str) -> str:
    """find-master.sh with a stub redis-cli that answers `answers[host]` (nothing for other hosts)."""
    stub = tmp_path / "bin" / "redis-cli"
    stub.parent.mkdir(exist_ok=True)
    cases = "".join(f'  {host}) printf "%s\\n" "{reply}" ;;\n' for host, reply in answers.items())
    stub.write_text('#!/bin/sh\nwhile [ "$1" != "-h" ]; do shift; done\ncase "$2" in\n'
                    f"{cases}  *) exit 1 ;;\nesac\n")
    stub.chmod(0o755)
    script = tmp_path / "find-master.sh"
    script.write_text(_sentinel_script(sentinel, "find-master.sh"))
    config = _one(sentinel, "ConfigMap", "reelsmith-config")["data"]
    env = {"PATH": f"{stub.parent}:/usr/bin:/bin", "POD_NAMESPACE": "reelsmith", "REDIS_PASSWORD": "pw",
           "REDIS_REPLICAS": "3", **{k: config[k] for k in ("REELSMITH_REDIS_SENTINELS",
                                                           "REELSMITH_REDIS_SENTINEL_MASTER")}}
    done = subprocess.run(["sh", str(script), self_name], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(shutil.which("sh") is None or shutil.which("timeout") is None, reason="needs sh and timeout")
def test_pods_start_from_the_master_the_sentinels_name(tmp_path: Path, sentinel: list[dict[str, Any]]) -> None:
    s = "redis-sentinel-{}.redis-sentinel.reelsmith.svc.cluster.local"
    r = "redis-{}.redis.reelsmith.svc.cluster.local"
    # A Sentinel's answer wins (after a failover redis-1 is master, whatever redis-0 thinks).
    answers = {s.format(1): f"{r.format(1)}\n6379", r.format(0): "role:master"}
    assert _run_find_master(tmp_path, sentinel, answers, r.format(0)) == r.format(1)
    # A Sentinel that answers with an error is not taken for a host; a Redis pod that is master is.
    answers = {s.format(0): "NOAUTH Authentication required.", r.format(2): "# Replication\nrole:master"}
    assert _run_find_master(tmp_path, sentinel, answers, s.format(1)) == r.format(2)
    # A Sentinel never asks itself; nothing answers: a fresh install, redis-0 is the first master.
    answers = {s.format(2): f"{r.format(2)}\n6379"}
    assert _run_find_master(tmp_path, sentinel, answers, s.format(2)) == r.format(0)


def test_managed_redis_overlay_uses_tls_with_the_mounted_ca(managed: list[dict[str, Any]]) -> None:
    assert not [d for d in managed if d["metadata"]["name"] == "redis"]  # no Redis pod, no Service
    settings = _config_values(managed)
    assert settings.redis_tls_ca_file is not None and settings.redis_tls_check_hostname
    ca = Path(settings.redis_tls_ca_file)
    secret = _one(managed, "Secret", "redis-ca")["stringData"]
    urls = set()
    for name, c in _deployment_containers(managed):
        env = _env(c)
        names = list(env)
        assert names.index("REDIS_PASSWORD") < names.index("REDIS_URL"), name
        urls.add(env["REDIS_URL"]["value"])
        [mount] = [m for m in c["volumeMounts"] if m["mountPath"] == str(ca.parent)]
        pod = next(d for d in managed if d["kind"] == "Deployment" and d["metadata"]["name"] == name)
        [volume] = [v for v in pod["spec"]["template"]["spec"]["volumes"] if v["name"] == mount["name"]]
        assert volume["secret"]["secretName"] == "redis-ca" and mount["readOnly"] is True, name
        assert {i["path"]: i["key"] for i in volume["secret"]["items"]}[ca.name] in secret, name
    [url] = urls
    assert url.startswith("rediss://:$(REDIS_PASSWORD)@")  # rediss: TLS on (core/queue/connection.py)
    [trigger] = [d for d in managed if d["kind"] == "ScaledObject"][0]["spec"]["triggers"]
    assert trigger["metadata"]["address"] == url.split("@", 1)[1].split("/", 1)[0]
    assert "enableTLS" not in trigger["metadata"]  # KEDA refuses it together with the `tls` auth parameter
    auth = _one(managed, "TriggerAuthentication", trigger["authenticationRef"]["name"])
    refs = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
    assert secret[refs["tls"]["key"]] == "enable" and refs["ca"]["key"] == "ca.crt" and "ca.crt" in secret


# ---- Grafana -------------------------------------------------------------------------------
def test_grafana_dashboard_uses_real_metrics_and_covers_them() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "reelsmith.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert exprs and len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    used = set()
    for expr in exprs:
        for name in re.findall(r"reelsmith_[a-z_]+", expr):
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            assert base in METRIC_NAMES, f"dashboard uses unknown metric {name}"
            used.add(base)
    assert used == set(METRIC_NAMES), f"metrics without a panel: {set(METRIC_NAMES) - used}"
