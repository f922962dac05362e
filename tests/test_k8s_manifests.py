"""installers/k8s: manifests parse, carry what the cluster needs, and kustomize builds them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

K8S = Path(__file__).resolve().parent.parent / "installers" / "k8s"
VOLUMES = ("input", "music", "output", "cache")


def documents():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    docs = []
    for name in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    return kustomization, docs


def by_kind(docs, kind):
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_every_resource_parses_with_api_version_kind_and_name():
    kustomization, docs = documents()
    assert all((K8S / name).is_file() for name in kustomization["resources"])
    assert docs and all(d.get("apiVersion") and d.get("kind") and d.get("metadata", {}).get("name") for d in docs)


def test_workers_ask_for_their_gpus_on_matching_nodes():
    _, docs = documents()
    deployments = by_kind(docs, "Deployment")
    for name, resource, label in (("montage-ai-worker-nvidia", "nvidia.com/gpu", "nvidia.com/gpu.present"),
                                  ("montage-ai-worker-amd", "amd.com/gpu", "feature.node.kubernetes.io/pci-1002.present")):
        spec = deployments[name]["spec"]["template"]["spec"]
        container = spec["containers"][0]
        assert spec["nodeSelector"] == {label: "true"}
        assert container["resources"]["limits"][resource] == 1
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "tcp://montage-ai-scheduler:8786" in " ".join(container["command"])
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert all(mounts[v] == f"/mnt/{v}" for v in VOLUMES)
        claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in spec["volumes"] if "persistentVolumeClaim" in v}
        assert claims == {v: f"montage-ai-{v}" for v in VOLUMES}
    selector = deployments["montage-ai-worker-nvidia"]["spec"]["selector"]["matchLabels"]
    assert selector.items() <= deployments["montage-ai-worker-nvidia"]["spec"]["template"]["metadata"]["labels"].items()


def test_scheduler_service_exposes_the_dask_port():
    _, docs = documents()
    service = by_kind(docs, "Service")["montage-ai-scheduler"]
    assert {p["port"] for p in service["spec"]["ports"]} == {8786, 8787}
    scheduler = by_kind(docs, "Deployment")["montage-ai-scheduler"]
    assert service["spec"]["selector"].items() <= scheduler["spec"]["template"]["metadata"]["labels"].items()


def test_nfs_volumes_and_claims_pair_up():
    _, docs = documents()
    pvs, pvcs = by_kind(docs, "PersistentVolume"), by_kind(docs, "PersistentVolumeClaim")
    for v in VOLUMES:
        pv, pvc = pvs[f"montage-ai-{v}"], pvcs[f"montage-ai-{v}"]
        assert set(pv["spec"]["nfs"]) == {"server", "path"}
        assert pvc["spec"]["volumeName"] == pv["metadata"]["name"]
        assert pvc["spec"]["accessModes"] == pv["spec"]["accessModes"]


def kustomize_command() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


@pytest.mark.skipif(kustomize_command() is None, reason="neither kustomize nor kubectl is installed")
def test_kustomize_build_puts_the_nfs_settings_into_the_volumes(tmp_path):
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    env = (copy / "nfs.env").read_text().replace("nfs.example.internal", "10.0.0.5").replace(
        "/export/montage/cache", "/tank/cache")
    (copy / "nfs.env").write_text(env)
    out = subprocess.run(kustomize_command() + [str(copy)], capture_output=True, text=True, check=True).stdout
    built = [d for d in yaml.safe_load_all(out) if d]
    pvs = by_kind(built, "PersistentVolume")
    assert {pv["spec"]["nfs"]["server"] for pv in pvs.values()} == {"10.0.0.5"}
    assert pvs["montage-ai-cache"]["spec"]["nfs"]["path"] == "/tank/cache"
    assert pvs["montage-ai-input"]["spec"]["nfs"]["path"] == "/export/montage/input"
    namespaced = [d for d in built if d["kind"] in ("Deployment", "Service", "PersistentVolumeClaim")]
    assert namespaced and all(d["metadata"]["namespace"] == "montage-ai" for d in namespaced)
    images = {c["image"] for d in by_kind(built, "Deployment").values() for c in d["spec"]["template"]["spec"]["containers"]}
    assert images == {"registry.local/montage-ai-worker:0.1.0"}


def test_worker_image_installs_ffmpeg_and_the_dask_extra():
    text = (K8S / "Dockerfile.worker").read_text()
    assert "ffmpeg" in text and '".[dask]"' in text and text.lstrip().startswith("#")
