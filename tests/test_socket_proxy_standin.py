"""Integration tests of the socket-proxy STAND-INS (hardstep-test/socket-proxy:2, today's upstream
rules, and :1, the rules from before upstream issue #182) on the real engine.

The stand-ins replace tecnativa/docker-socket-proxy in tests because no registry is
reachable; these tests pin that they behave as Tecnativa documents (FACTS.md "Socket proxy")
while hardened the way hardstep runs it: cap_drop ALL, no-new-privileges, the socket
mounted read-only and a tmpfs on /run. What both generations share is tested on both
(the ``generation`` fixture); where they differ, each is pinned on its own. Every request
comes from a probe container on the same user network (tests/infra/probe.py): mostly through
one long-lived ``Prober`` container per test (fast), and once through the one-shot
``http_status`` helper.
"""

from __future__ import annotations

from typing import Callable

import pytest

import docker
from app.containers.commands import ask, ask_shell
from tests.infra.probe import Prober, ProbeError, http_status

pytestmark = pytest.mark.docker

SOCKET = "/var/run/docker.sock"


def start_proxy(
    client: docker.DockerClient,
    images: dict[str, str],
    name: str,
    network: str,
    env: dict[str, str],
    prober: Prober,
    generation: str = "socket_proxy",
):
    """Run the stand-in hardened as hardstep runs the real proxy; wait until it answers."""
    container = client.containers.run(
        images[generation],
        name=name,
        detach=True,
        network=network,
        environment=env,
        volumes={SOCKET: {"bind": SOCKET, "mode": "ro"}},
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        tmpfs={"/run": ""},
    )
    try:
        # PING defaults to 1: any answer on /_ping means HAProxy listens.
        prober.wait(f"http://{name}:2375/_ping")
    except ProbeError as exc:
        container.reload()
        logs = container.logs().decode(errors="replace")
        pytest.fail(f"proxy never answered (state {container.status}):\n{logs}\n{exc}")
    return container


@pytest.fixture(params=["socket_proxy", "socket_proxy_old"], ids=["newer", "older"])
def generation(request) -> str:
    """Each generation of upstream's rules, for what both share."""
    return request.param


@pytest.fixture
def net(docker_client: docker.DockerClient, unique: Callable[[str], str]) -> str:
    name = unique("net")
    docker_client.networks.create(name, driver="bridge")
    return name


@pytest.fixture
def prober(docker_client, images, unique, net):
    with Prober(docker_client, images["busybox"], net, name=unique("probe")) as p:
        yield p


def statuses(prober: Prober, base: str, requests):
    """{(method, path): status} for every (method, path) in requests."""
    return {(m, p): prober.http_status(base + p, method=m) for m, p in requests}


def test_image_is_labelled_as_standin_with_tecnativa_defaults(docker_client, images, generation):
    image = docker_client.images.get(images[generation])
    assert "stand-in" in image.labels["org.opencontainers.image.title"]
    env = dict(e.split("=", 1) for e in image.attrs["Config"]["Env"])
    assert {k: env[k] for k in ("EVENTS", "PING", "VERSION")} == {"EVENTS": "1", "PING": "1", "VERSION": "1"}
    off = (
        "AUTH SECRETS POST BUILD COMMIT CONFIGS CONTAINERS ALLOW_START ALLOW_STOP ALLOW_RESTARTS "
        "DISTRIBUTION EXEC GRPC IMAGES INFO NETWORKS NODES PLUGINS SERVICES SESSION SWARM SYSTEM "
        "TASKS VOLUMES"
    ).split()
    assert {k: env.get(k) for k in off} == {k: "0" for k in off}
    assert "ALLOW_RESTART" not in env  # the singular name does not exist upstream
    newer = ("ALLOW_EXEC ALLOW_KILL ALLOW_ATTACH ALLOW_ARCHIVE ALLOW_EXPORT ALLOW_LOGS ALLOW_PAUSE "
             "ALLOW_UNPAUSE DELETE PUT PATCH").split()
    assert {k: env.get(k) for k in newer} == {k: "0" if generation == "socket_proxy" else None for k in newer}


def test_defaults_allow_only_ping_version_events(docker_client, images, unique, net, prober, generation):
    proxy = unique("proxy")
    start_proxy(docker_client, images, proxy, net, {}, prober, generation)
    got = statuses(
        prober, f"http://{proxy}:2375",
        [("GET", "/_ping"), ("GET", "/version"), ("GET", "/containers/json"), ("GET", "/info"),
         ("GET", "/images/json")],
    )
    assert got == {
        ("GET", "/_ping"): 200,
        ("GET", "/version"): 200,
        ("GET", "/containers/json"): 403,
        ("GET", "/info"): 403,
        ("GET", "/images/json"): 403,
    }


def test_containers_proxy_hardened(docker_client, images, unique, net, prober, generation):
    proxy = unique("proxy")
    container = start_proxy(docker_client, images, proxy, net, {"CONTAINERS": "1"}, prober, generation)
    got = statuses(
        prober, f"http://{proxy}:2375",
        [
            ("GET", "/containers/json"),
            ("GET", "/v1.41/containers/json"),
            ("GET", "/networks"),
            ("GET", "/version"),
            ("GET", "/info"),
            # URL-decoded and case-insensitive matching, as upstream: allowed by the proxy
            # (the engine itself then answers 200 or its own 404, never HAProxy's 403).
            ("GET", "/%63ontainers/json"),
            ("GET", "/v1.41/%6Eetworks"),
            ("POST", "/containers/create"),  # POST=0: denied before any allow rule
        ],
    )
    assert got == {
        ("GET", "/containers/json"): 200,
        ("GET", "/v1.41/containers/json"): 200,
        ("GET", "/networks"): 403,
        ("GET", "/version"): 200,
        ("GET", "/info"): 403,
        ("GET", "/%63ontainers/json"): 200,
        ("GET", "/v1.41/%6Eetworks"): 403,
        ("POST", "/containers/create"): 403,
    }
    upper = prober.http_status(f"http://{proxy}:2375/CONTAINERS/json")
    assert upper != 403  # matched case-insensitively; the engine's router answers 404

    # The hardening is really in force, not only requested.
    container.reload()
    host = container.attrs["HostConfig"]
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["Tmpfs"] == {"/run": ""}
    (sock_mount,) = [m for m in container.attrs["Mounts"] if m["Destination"] == SOCKET]
    assert sock_mount["RW"] is False
    rc, out = ask(container, ["cat", "/proc/1/status"])
    status = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    assert status["NoNewPrivs"].strip() == "1"
    assert int(status["CapEff"].strip(), 16) == 0
    assert int(status["CapBnd"].strip(), 16) == 0
    rc, out = ask_shell(container, "test -f /run/haproxy.cfg && grep ' /run ' /proc/mounts")
    assert rc == 0 and "tmpfs" in out, out


def test_narrow_restart_proxy(docker_client, images, unique, net, prober, generation):
    target_name = unique("target")
    target = docker_client.containers.run(
        images["busybox"], ["sleep", "600"], name=target_name, detach=True
    )
    target.reload()
    started_before = target.attrs["State"]["StartedAt"]

    proxy = unique("proxy")
    start_proxy(
        docker_client, images, proxy, net,
        {"POST": "1", "ALLOW_RESTARTS": "1", "CONTAINERS": "0"}, prober, generation,
    )
    base = f"http://{proxy}:2375"
    # t=0: sleep as PID 1 ignores SIGTERM; do not wait the default 10 s before the kill.
    restart = prober.http_status(f"{base}/containers/{target_name}/restart?t=0", method="POST")
    assert restart == 204
    target.reload()
    assert target.status == "running"
    assert target.attrs["State"]["StartedAt"] != started_before

    got = statuses(
        prober, base,
        [
            ("POST", "/containers/create"),
            ("POST", f"/containers/{target_name}/start"),  # ALLOW_START=0
            ("POST", "/v1.41/images/create"),
            ("GET", "/networks"),
            ("GET", "/containers/json"),
            ("GET", "/version"),
        ],
    )
    assert got == {
        ("POST", "/containers/create"): 403,
        ("POST", f"/containers/{target_name}/start"): 403,
        ("POST", "/v1.41/images/create"): 403,
        ("GET", "/networks"): 403,
        ("GET", "/containers/json"): 403,
        ("GET", "/version"): 200,
    }


def test_without_post_every_post_is_denied(docker_client, images, unique, net, prober, generation):
    target_name = unique("target")
    target = docker_client.containers.run(
        images["busybox"], ["sleep", "600"], name=target_name, detach=True
    )
    target.reload()
    started_before = target.attrs["State"]["StartedAt"]

    proxy = unique("proxy")
    start_proxy(
        docker_client, images, proxy, net,
        {"CONTAINERS": "1", "ALLOW_RESTARTS": "1", "ALLOW_START": "1", "ALLOW_STOP": "1"}, prober, generation,
    )
    got = statuses(
        prober, f"http://{proxy}:2375",
        [
            ("POST", f"/containers/{target_name}/restart?t=0"),
            ("POST", f"/containers/{target_name}/stop?t=0"),
            ("POST", f"/containers/{target_name}/kill"),
            ("POST", "/containers/create"),
            ("POST", "/_ping"),
            ("GET", "/containers/json"),
        ],
    )
    assert got == {
        ("POST", f"/containers/{target_name}/restart?t=0"): 403,
        ("POST", f"/containers/{target_name}/stop?t=0"): 403,
        ("POST", f"/containers/{target_name}/kill"): 403,
        ("POST", "/containers/create"): 403,
        ("POST", "/_ping"): 403,
        ("GET", "/containers/json"): 200,
    }
    target.reload()
    assert target.status == "running"
    assert target.attrs["State"]["StartedAt"] == started_before


def files_of(prober: Prober, base: str) -> dict[str, int]:
    """What the proxy answers to reading the probe container's own files."""
    me = prober.container.id
    return {what: prober.http_status(f"{base}/containers/{me}/{what}")
            for what in ("archive?path=/etc/passwd", "export")}


def test_older_rules_let_containers_read_every_containers_files(docker_client, images, unique, net, prober):
    """Upstream issue #182: GET-only CONTAINERS=1 opens /archive and /export; POST=1 every method."""
    proxy = unique("proxy")
    start_proxy(docker_client, images, proxy, net, {"CONTAINERS": "1"}, prober, "socket_proxy_old")
    base = f"http://{proxy}:2375"
    assert files_of(prober, base) == {"archive?path=/etc/passwd": 200, "export": 200}
    assert prober.http_status(f"{base}/containers/hardstep-nothing", method="DELETE") == 403  # POST=0

    loose = unique("proxy")
    start_proxy(docker_client, images, loose, net, {"CONTAINERS": "1", "POST": "1"}, prober, "socket_proxy_old")
    base = f"http://{loose}:2375"
    # Past the proxy, the engine answers (404 for a container that does not exist, 400 for a
    # request body it cannot read): not HAProxy's 403.
    answers = statuses(prober, base, [("DELETE", "/containers/hardstep-nothing"),
                                      ("PUT", "/containers/hardstep-nothing/archive?path=/tmp"),
                                      ("POST", "/containers/hardstep-nothing/exec"),
                                      ("POST", "/containers/hardstep-nothing/kill")])
    assert set(answers.values()) <= {400, 404}, answers


def test_newer_rules_gate_files_exec_and_every_method(docker_client, images, unique, net, prober):
    proxy = unique("proxy")
    start_proxy(docker_client, images, proxy, net, {"CONTAINERS": "1", "POST": "1"}, prober)
    base = f"http://{proxy}:2375"
    assert files_of(prober, base) == {"archive?path=/etc/passwd": 403, "export": 403}
    gone = "/containers/hardstep-nothing"
    asked = [("GET", f"{gone}/logs"), ("POST", f"{gone}/attach"), ("POST", f"{gone}/exec"),
             ("POST", f"{gone}/kill"), ("DELETE", gone),
             ("PUT", f"{gone}/archive?path=/tmp"), ("PATCH", gone)]
    assert statuses(prober, base, asked) == {request: 403 for request in asked}
    assert prober.http_status(f"{base}/containers/json") == 200
    # As upstream: pause has a switch of its own, but only allows with it; CONTAINERS=1 POST=1 does too.
    assert prober.http_status(f"{base}{gone}/pause", method="POST") == 404

    switches = {"CONTAINERS": "1", "POST": "1", "ALLOW_ARCHIVE": "1", "ALLOW_EXPORT": "1", "ALLOW_LOGS": "1",
                "ALLOW_ATTACH": "1", "ALLOW_EXEC": "1", "ALLOW_KILL": "1",
                "DELETE": "1", "PUT": "1", "PATCH": "1"}
    open_proxy = unique("proxy")
    start_proxy(docker_client, images, open_proxy, net, switches, prober)
    base = f"http://{open_proxy}:2375"
    assert files_of(prober, base) == {"archive?path=/etc/passwd": 200, "export": 200}
    answers = statuses(prober, base, asked)
    assert 403 not in answers.values(), answers  # each switch opens its endpoint or method


def test_disable_ipv6_listens_on_ipv4(docker_client, images, unique, net, prober):
    proxy = unique("proxy")
    container = start_proxy(docker_client, images, proxy, net, {"DISABLE_IPV6": "1"}, prober)
    rc, out = ask(container, ["grep", "-A1", "^frontend", "/run/haproxy.cfg"])
    assert rc == 0 and "bind :2375" in out, out
    assert prober.http_status(f"http://{proxy}:2375/version") == 200


def test_one_shot_http_status_helper(docker_client, images, unique, net, prober):
    proxy = unique("proxy")
    start_proxy(docker_client, images, proxy, net, {"CONTAINERS": "1"}, prober)
    base = f"http://{proxy}:2375"
    bb = images["busybox"]
    assert http_status(docker_client, bb, net, f"{base}/containers/json") == 200
    assert http_status(docker_client, bb, net, f"{base}/networks") == 403
    assert http_status(docker_client, bb, net, f"{base}/containers/create", method="POST") == 403
    with pytest.raises(ProbeError):
        http_status(docker_client, bb, net, f"http://{proxy}:2376/", timeout=3)  # nothing listens
