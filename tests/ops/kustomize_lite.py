"""Just enough of `kustomize build` to test the overlays without kubectl: resources (files and bases),
strategic-merge patches (with `$patch: delete`), JSON 6902 patches with targets, namespace and images.

Strategic merge knows the merge keys of the lists the deploy files patch; other lists are replaced, and
custom resources (KEDA's) are always patched with JSON 6902 there, so their lists are never merged.
tests/ops/test_deploy_files.py checks the result against `kubectl kustomize` where kubectl is installed.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Doc = dict[str, Any]

MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
              "volumeMounts": "mountPath", "ports": "containerPort", "imagePullSecrets": "name"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"}


def kustomization(root: Path) -> Doc:
    return dict(yaml.safe_load((root / "kustomization.yaml").read_text()))


def build(root: Path) -> list[Doc]:
    """The objects `kustomize build root` prints (in no particular order)."""
    k = kustomization(root)
    docs: list[Doc] = []
    for entry in k.get("resources", []):
        path = (root / entry).resolve()
        docs += build(path) if path.is_dir() else _load(path)
    for patch in k.get("patches", []):
        docs = _apply_patch(docs, root / patch["path"], patch.get("target"))
    if "namespace" in k:
        for d in docs:
            if d["kind"] not in CLUSTER_SCOPED:
                d["metadata"]["namespace"] = k["namespace"]
    for image in k.get("images", []):
        for d in docs:
            _set_image(d, image)
    return docs


def _load(path: Path) -> list[Doc]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _builtin(doc: Doc) -> bool:
    return "." not in doc["apiVersion"].split("/")[0] or doc["apiVersion"].split("/")[0].endswith(".k8s.io")


def _matches(doc: Doc, target: dict[str, str]) -> bool:
    group = doc["apiVersion"].split("/")[0] if "/" in doc["apiVersion"] else ""
    if "kind" in target and doc["kind"] != target["kind"]:
        return False
    if "name" in target and doc["metadata"]["name"] != target["name"]:
        return False
    if "group" in target and group != target["group"]:
        return False
    labels = doc["metadata"].get("labels", {})
    for term in filter(None, target.get("labelSelector", "").split(",")):
        key, _, value = term.partition("=")
        if labels.get(key.strip()) != value.strip():
            return False
    return True


def _apply_patch(docs: list[Doc], path: Path, target: dict[str, str] | None) -> list[Doc]:
    loaded = yaml.safe_load(path.read_text())
    if isinstance(loaded, list):  # JSON 6902: a list of operations, on every object the target selects
        assert target, f"{path}: a JSON patch needs a target"
        hits = [d for d in docs if _matches(d, target)]
        assert hits, f"{path}: the target matches nothing"
        for d in hits:
            for op in loaded:
                _json_op(d, op)
        return docs
    for patch in _load(path):
        select = target or {"kind": patch["kind"], "name": patch["metadata"]["name"]}
        hits = [d for d in docs if _matches(d, select)]
        assert hits, f"{path}: {select} matches nothing"
        if patch.get("$patch") == "delete":
            docs = [d for d in docs if not _matches(d, select)]
            continue
        for d in hits:
            _merge(d, patch, _builtin(d))
    return docs


def _merge(base: Doc, patch: Doc, builtin: bool) -> None:
    for key, value in patch.items():
        if key == "$patch":
            continue
        old = base.get(key)
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(old, dict):
            _merge(old, value, builtin)
        elif builtin and isinstance(value, list) and isinstance(old, list) and _keyed(key, old + value):
            base[key] = _merge_list(old, value, MERGE_KEYS[key], builtin)
        else:
            base[key] = copy.deepcopy(value)


def _keyed(key: str, items: list[Any]) -> bool:
    return key in MERGE_KEYS and all(isinstance(i, dict) and MERGE_KEYS[key] in i for i in items)


def _merge_list(old: list[Doc], new: list[Doc], key: str, builtin: bool) -> list[Doc]:
    # kustomize puts the patch's new elements first, then the base's (merged where the patch names them).
    by_key = {item[key]: item for item in new}
    added = [copy.deepcopy(item) for item in new if item[key] not in {o[key] for o in old}]
    merged = []
    for item in old:
        if item[key] in by_key:
            _merge(item, by_key[item[key]], builtin)
        merged.append(item)
    return added + merged


def _json_op(doc: Doc, op: dict[str, Any]) -> None:
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].lstrip("/").split("/")]
    node: Any = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if op["op"] == "test":
        current = node[int(last)] if isinstance(node, list) else node[last]
        assert current == op["value"], f"JSON patch test failed at {op['path']}: {current!r}"
    elif op["op"] == "remove":
        del node[int(last) if isinstance(node, list) else last]
    elif op["op"] == "replace":
        node[int(last) if isinstance(node, list) else last] = copy.deepcopy(op["value"])
    elif op["op"] == "add" and isinstance(node, list):
        node.insert(len(node) if last == "-" else int(last), copy.deepcopy(op["value"]))
    elif op["op"] == "add":
        node[last] = copy.deepcopy(op["value"])
    else:
        raise AssertionError(f"unsupported JSON patch op {op['op']}")


def _set_image(doc: Doc, image: dict[str, str]) -> None:
    pod = doc.get("spec", {}).get("template", {}).get("spec", {})
    for c in pod.get("containers", []) + pod.get("initContainers", []):
        if c["image"].split(":")[0] == image["name"]:
            c["image"] = f"{image.get('newName', image['name'])}:{image['newTag']}" if "newTag" in image \
                else image.get("newName", image["name"])
