"""The deployment files keep the playground, Redis and the health ports private: Kubernetes NetworkPolicies
(evaluated here the way a CNI does) let in only the pods that need each port, images keep health on
loopback, and compose and Kubernetes give the public-facing playground a token."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.ops.config_check import static_problems
from core.ops.hosts import is_loopback
from core.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
NAMESPACE = "reelsmith"
REDIS, WEB, HEALTH, MINIO = 6379, 8080, 9464, 9000


@dataclass(frozen=True)
class Pod:
    name: str
    labels: dict[str, str]
    namespace: str = NAMESPACE
    namespace_labels: dict[str, str] = field(default_factory=dict)

    def ns_labels(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.namespace, **self.namespace_labels}


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {"In": key in labels and labels[key] in values, "NotIn": labels.get(key) not in values,
              "Exists": key in labels, "DoesNotExist": key not in labels}[op]
        if not ok:
            return False
    return True


def _peer_admits(peer: dict[str, Any], source: Pod) -> bool:
    if "ipBlock" in peer:
        return False  # none of ours use one; treat it as admitting no pod
    pods, namespaces = peer.get("podSelector"), peer.get("namespaceSelector")
    if namespaces is None and source.namespace != NAMESPACE:
        return False  # a bare podSelector means pods of the policy's own namespace
    if namespaces is not None and not _matches(namespaces, source.ns_labels()):
        return False
    return pods is None or _matches(pods, source.labels)


def allowed(policies: list[dict[str, Any]], source: Pod, target: Pod, port: int) -> bool:
    """Kubernetes semantics: a pod selected by any ingress policy admits only what one of them allows."""
    selecting = [p for p in policies if "Ingress" in p["spec"].get("policyTypes", ["Ingress"])
                 and _matches(p["spec"]["podSelector"], target.labels)]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get("ingress", []):
            ports = rule.get("ports")
            if ports is not None and not any(p.get("port") == port for p in ports):
                continue
            peers = rule.get("from")
            if peers is None or any(_peer_admits(peer, source) for peer in peers):
                return True
    return False


@pytest.fixture(scope="module")
def k8s() -> list[dict[str, Any]]:
    resources = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    return [d for name in resources for d in yaml.safe_load_all((K8S / name).read_text()) if d]


def _pods(k8s: list[dict[str, Any]]) -> dict[str, Pod]:
    return {d["metadata"]["name"]: Pod(d["metadata"]["name"], d["spec"]["template"]["metadata"]["labels"])
            for d in k8s if d["kind"] in ("Deployment", "StatefulSet")}


def _container_ports(k8s: list[dict[str, Any]], name: str) -> set[int]:
    [workload] = [d for d in k8s if d["kind"] in ("Deployment", "StatefulSet") and d["metadata"]["name"] == name]
    return {p["containerPort"] for c in workload["spec"]["template"]["spec"]["containers"] for p in c["ports"]}


def test_network_policies_let_in_only_what_needs_each_port(k8s: list[dict[str, Any]]) -> None:
    policies = [d for d in k8s if d["kind"] == "NetworkPolicy"]
    pods = _pods(k8s)
    assert set(pods) == {"redis", "minio", "worker", "playground", "telegram", "discord"}
    app = ["worker", "playground", "telegram", "discord"]
    keda = Pod("keda-operator", {"app": "keda-operator"}, "keda")
    ingress = Pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}, "ingress-nginx",
                  {"reelsmith.io/playground-access": "true"})
    prometheus = Pod("prometheus", {"app": "prometheus"}, "monitoring", {"reelsmith.io/metrics-access": "true"})
    stranger = Pod("stranger", {"app": "anything"}, "default")
    neighbour = Pod("debug", {"app": "debug"})  # an unrelated pod in our namespace
    fake_keda = Pod("keda-operator", {"app": "keda-operator"}, "default")  # the right labels, the wrong namespace

    def who(target: str, port: int) -> set[str]:
        sources = [*(pods[n] for n in app), keda, ingress, prometheus, stranger, neighbour, fake_keda]
        return {f"{s.namespace}/{s.name}" for s in sources if allowed(policies, s, pods[target], port)}

    ours = {f"{NAMESPACE}/{n}" for n in app}
    assert who("redis", REDIS) == ours | {"keda/keda-operator"}
    assert who("minio", MINIO) == ours  # the media store: Reelsmith's pods only
    assert who("playground", WEB) == {"ingress-nginx/ingress-nginx"}
    for name in app:
        assert who(name, HEALTH) == {"monitoring/prometheus"}, name
    for name in ("redis", "minio", *app):
        for port in {REDIS, MINIO, WEB, HEALTH, 22} - _container_ports(k8s, name):
            assert who(name, port) == set(), (name, port)  # default deny for everything else
    # The policies' ports are the ones the pods serve.
    assert _container_ports(k8s, "minio") == {MINIO}
    assert _container_ports(k8s, "redis") == {REDIS} and _container_ports(k8s, "playground") == {WEB, HEALTH}
    assert all(_container_ports(k8s, name) == {HEALTH} for name in ("worker", "telegram", "discord"))


def test_images_keep_health_and_metrics_on_loopback() -> None:
    assert is_loopback(Settings(_env_file=None).health_host)
    for name in ("Dockerfile.bot", "Dockerfile.worker"):
        text = re.sub(r"\\\n", " ", (DEPLOY / name).read_text())
        hosts = re.findall(r"REELSMITH_HEALTH_HOST=(\S+)", text)
        assert all(is_loopback(h) for h in hosts), (name, hosts)
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())["services"]
    assert is_loopback(compose["playground"]["environment"].get("REELSMITH_HEALTH_HOST", "127.0.0.1"))


def test_public_playgrounds_are_given_a_token(k8s: list[dict[str, Any]]) -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())["services"]["playground"]["environment"]
    assert compose["REELSMITH_WEB_HOST"] == "0.0.0.0"
    assert compose["REELSMITH_WEB_TOKEN"].startswith("${REELSMITH_WEB_TOKEN:?")  # compose stops without it
    [playground] = [d for d in k8s if d["kind"] == "Deployment" and d["metadata"]["name"] == "playground"]
    [container] = playground["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["REELSMITH_WEB_HOST"]["value"] == "0.0.0.0"
    ref = env["REELSMITH_WEB_TOKEN"]["valueFrom"]["secretKeyRef"]
    [secret] = [d for d in k8s if d["kind"] == "Secret" and d["metadata"]["name"] == ref["name"]]
    assert ref["key"] in secret["stringData"]
    public = Settings(_env_file=None, web_host="0.0.0.0")
    [problem] = static_problems(public, {}, bots=["web"])
    assert "REELSMITH_WEB_TOKEN is not set" in problem
    # The example Secret's placeholder is refused too, so nobody runs with a published token.
    example = Settings(_env_file=None, web_host="0.0.0.0", web_token=secret["stringData"][ref["key"]])
    assert "placeholder" in " ".join(static_problems(example, {}, bots=["web"]))
