"""The CIS runtime audit on the real engine: a deliberately weak container, a sandboxed one, and
the accepted exceptions (the socket proxy's read-only socket, coTURN on the host network)."""

from __future__ import annotations

import json

import pytest

from app.steps.cis.audit import container_items
from app.cli import main
from tests.fixtures_core import make_engine

pytestmark = pytest.mark.docker

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
SOCKET = "/var/run/docker.sock:/var/run/docker.sock"


def items(engine, container) -> dict[str, tuple]:
    """item -> (ok, detail, evidence) for one container."""
    container.reload()
    return {name.split(" ")[0]: (ok, detail, evidence)
            for name, ok, detail, evidence in container_items(engine.host, container, engine.config, "no AppArmor here")}


def test_weak_and_sandboxed_containers(tmp_path, unique, images, docker_client, capsys):
    weak_name, boxed_name = unique("weak"), unique("boxed")
    weak = docker_client.containers.run(images["busybox"], SLEEPER, name=weak_name, detach=True,
                                        cap_add=["SYS_ADMIN"], security_opt=["seccomp=unconfined"], volumes=[SOCKET])
    docker_client.containers.run(images["busybox"], SLEEPER, name=boxed_name, detach=True)
    engine = make_engine(tmp_path, unique, images, sandbox={"containers": [boxed_name]})

    found = items(engine, weak)
    assert {k for k, (ok, _, _) in found.items() if ok is False} == \
        {"5.4", "5.11", "5.12", "5.13", "5.22", "5.26", "5.29", "5.32"}
    assert found["5.2"][0] is None and found["5.5"][0] is True and found["5.10"][0] is True
    assert found["5.4"][1] == "added: SYS_ADMIN; fixed by: sandbox"
    assert found["5.26"][1].startswith("NoNewPrivs: 0")  # read from the kernel, not only inspect
    assert found["5.32"][2]["fixed_by"] == "socket-proxy (let it use the proxy)"

    assert engine.apply("sandbox").ok
    boxed = items(engine, docker_client.containers.get(boxed_name))
    assert {k: ok for k, (ok, _, _) in boxed.items()} == {
        "5.2": None, "5.4": True, "5.5": True, "5.10": True, "5.11": True, "5.12": True, "5.13": True,
        "5.22": True, "5.26": True, "5.29": True, "5.32": True}
    assert boxed["5.26"][1] == "NoNewPrivs: 1"

    # Through the command line: the pseudo-step cis is part of `hardstep check`, in JSON too.
    code = main(["check", "cis", "--json", "--root", str(engine.host.root), "--config", str(engine.config.path),
                 "--state-dir", str(engine.state.dir)])
    rows = json.loads(capsys.readouterr().out)
    assert code == 1  # the weak container fails
    mine = {r["check"]: r for r in rows if r["evidence"].get("container") == weak_name}
    assert mine[f"5.13 read-only root filesystem: {weak_name}"]["status"] == "fail"
    assert mine[f"5.13 read-only root filesystem: {weak_name}"]["evidence"]["fixed_by"] == "sandbox"
    assert {r["evidence"]["item"] for r in rows if r["evidence"].get("container") is None} == \
        {"2.2", "2.9", "2.14", "2.15", "2.16", "2.17"}
    engine.host.close()


def test_privileged_item_fails_on_privileged_inspect_data(tmp_path, unique, images, docker_client):
    """Stand-in: this machine's kernel refuses to start --privileged containers (CAP_SYS_RESOURCE is
    not in its bounding set), so 5.5 reads a real container's inspect data with Privileged set."""
    container = docker_client.containers.run(images["busybox"], SLEEPER, name=unique("priv"), detach=True)
    engine = make_engine(tmp_path, unique, images)
    container.reload()
    container.attrs["HostConfig"]["Privileged"] = True
    found = {n.split(" ")[0]: ok for n, ok, _, _ in container_items(engine.host, container, engine.config, "none")}
    assert found["5.5"] is False and found["5.22"] is False  # privileged also switches seccomp off


def test_accepted_exceptions_pass_with_their_reason(tmp_path, unique, images, docker_client):
    proxy, coturn, other = unique("dockerproxy"), unique("coturn"), unique("hostnet")
    engine = make_engine(tmp_path, unique, images, turn={"container": coturn})
    engine.config = engine.config.with_value("docker", "socket_proxy_container", proxy)
    docker_client.containers.run(images["busybox"], SLEEPER, name=proxy, detach=True, volumes=[SOCKET + ":ro"])
    for name in (coturn, other):
        docker_client.containers.run(images["busybox"], SLEEPER, name=name, detach=True, network_mode="host")

    ok, detail, evidence = items(engine, docker_client.containers.get(proxy))["5.32"]
    assert ok is True and detail.startswith("accepted: the socket proxy") and "accepted" in evidence
    ok, detail, evidence = items(engine, docker_client.containers.get(coturn))["5.10"]
    assert ok is True and detail.startswith("accepted: coTURN") and evidence["accepted"]
    ok, detail, evidence = items(engine, docker_client.containers.get(other))["5.10"]
    assert ok is False and "network mode host" in detail and "accepted" not in evidence

    # A socket proxy with a writable socket is not an accepted exception.
    docker_client.containers.get(proxy).remove(force=True)
    docker_client.containers.run(images["busybox"], SLEEPER, name=proxy, detach=True, volumes=[SOCKET])
    ok, detail, evidence = items(engine, docker_client.containers.get(proxy))["5.32"]
    assert ok is False and evidence["fixed_by"] == "socket-proxy (mount it :ro)"
    engine.host.close()
