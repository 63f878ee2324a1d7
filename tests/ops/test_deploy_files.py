"""The deployment files hold together: schemas, required keys, probes on served paths, GPU requests,
KEDA on the real queue, every setting documented, the dashboard on real metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from core.ops.config_check import known_env_names, unknown_env_settings
from core.ops.health import HEALTH_PATH, LIVE_PATH, METRICS_PATH
from core.ops.metrics import METRIC_NAMES
from core.settings import Settings

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
