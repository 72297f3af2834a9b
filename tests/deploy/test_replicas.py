"""The replica deployments (Kubernetes and compose) set only real settings and wire the parts."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from toolsim.settings import Settings, environment_variables

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def manifests() -> dict[tuple[str, str], dict]:
    documents = yaml.safe_load_all((ROOT / "deploy" / "kubernetes.yaml").read_text())
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in documents if doc}


def _container(manifests: dict, kind: str, name: str) -> dict:
    return manifests[(kind, name)]["spec"]["template"]["spec"]["containers"][0]


def _env(container: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("env", [])}


def test_kubernetes_sets_only_settings_that_validate(manifests, monkeypatch):
    env = _env(_container(manifests, "Deployment", "toolsim"))
    assert env and set(env) <= set(environment_variables())
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.server.workers == 2 and settings.episodes.max_open == 20000


def test_kubernetes_wires_replicas_to_one_valkey_and_vllm(manifests):
    toolsim = manifests[("Deployment", "toolsim")]
    assert toolsim["spec"]["replicas"] >= 2
    env = _env(_container(manifests, "Deployment", "toolsim"))
    cache = urlsplit(env["TOOLSIM_CACHE__URL"])
    model = urlsplit(env["TOOLSIM_SIMULATOR__BASE_URL"])
    valkey, vllm = manifests[("Service", "valkey")], manifests[("Service", "vllm")]
    assert cache.scheme == "redis" and cache.hostname == "valkey"
    assert cache.port == valkey["spec"]["ports"][0]["port"]
    assert model.hostname == "vllm" and model.port == vllm["spec"]["ports"][0]["port"]
    assert _container(manifests, "StatefulSet", "valkey")["image"].startswith("valkey/")
    gpu = _container(manifests, "Deployment", "vllm")["resources"]["limits"]
    assert gpu["nvidia.com/gpu"] == 1
    args = _container(manifests, "Deployment", "vllm")["args"]
    assert env["TOOLSIM_SIMULATOR__MODEL"] == args[args.index("--model") + 1]


def test_kubernetes_services_select_their_pods_and_probe_health(manifests):
    for name in ("toolsim", "valkey", "vllm"):
        service = manifests[("Service", name)]
        workload = manifests.get(("Deployment", name)) or manifests[("StatefulSet", name)]
        assert service["spec"]["selector"] == workload["spec"]["template"]["metadata"]["labels"]
        ports = {p["containerPort"] for p in _container(manifests, workload["kind"], name)["ports"]}
        assert service["spec"]["ports"][0]["targetPort"] in ports
    toolsim = _container(manifests, "Deployment", "toolsim")
    assert toolsim["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert int(_env(toolsim)["TOOLSIM_SERVER__PORT"]) == toolsim["ports"][0]["containerPort"]


def test_the_replica_compose_file(monkeypatch):
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    env = services["toolsim"]["environment"]
    assert set(env) <= set(environment_variables())
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    settings = Settings()
    assert urlsplit(settings.cache.url or "").hostname == "valkey"
    assert urlsplit(settings.simulator.base_url or "").hostname == "vllm"
    assert set(services["toolsim"]["depends_on"]) == {"valkey", "vllm"}
    assert services["toolsim"]["deploy"]["replicas"] >= 2
    assert (ROOT / "deploy" / services["toolsim"]["build"] / "Dockerfile").exists()
