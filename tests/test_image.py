"""hardstep's container image (``make image``), built from the wheel on the tools image and run
against a host root bind-mounted at /host with the engine's socket.

The image is built by the product's builder (``tests.infra.hardstep_image``) with the tools image as BASE (no
registry here to pull python:3.11-slim from) under a test tag; the builder skips the build when
that tag carries the recipe of this wheel already. The "/host" is a folder in tmp_path. For
``--pid host`` the target of the host namespaces is a STAND-IN (as in test_host_namespaces.py):
PID 1's namespaces cannot be entered on this machine, so a process made by the test in
namespaces of its own stands in for the host's init through HARDSTEP_HOST_NAMESPACES, and the
container gets the capabilities nsenter needs instead of ``--privileged`` (see NSENTER_RIGHTS).
"""

from __future__ import annotations

import json

import docker
import pytest

from tests.infra.hardstep_image import build_image
from tests.infra.images import TOOLS_TAG
from tests.test_host_namespaces import PROGRAM, other_host  # noqa: F401 (a fixture)
from tests.wheel_support import VERSION, build_wheel

TAG = "hardstep-test/hardstep:dev"
SOCKET = "/var/run/docker.sock"
# The README runs the image --privileged. That cannot start a container on this machine (runc:
# "unable to apply caps": the machine's capability bounding set lacks one), so the tests grant
# what nsenter needs instead: setns (CAP_SYS_ADMIN, outside the default seccomp and AppArmor
# profiles) and opening another process's /proc/PID/ns links (CAP_SYS_PTRACE).
NSENTER_RIGHTS = {"cap_add": ["SYS_ADMIN", "SYS_PTRACE"], "security_opt": ["seccomp=unconfined", "apparmor=unconfined"]}


@pytest.fixture(scope="module")
def image(docker_client, images, tmp_path_factory) -> str:
    wheel = build_wheel(tmp_path_factory.mktemp("image-wheel"))
    build_image(docker_client, wheel, base=TOOLS_TAG, tags=[TAG], log=lambda _line: None)
    return TAG


def _run(client: docker.DockerClient, image: str, name: str, command: list[str], host_root=None,
         **kwargs) -> tuple[int, str, str]:
    volumes = {SOCKET: {"bind": SOCKET, "mode": "rw"}}
    if host_root is not None:
        volumes[str(host_root)] = {"bind": "/host", "mode": "rw"}
    container = client.containers.run(image, command, name=name, detach=True, volumes=volumes,
                                      pid_mode="host", **NSENTER_RIGHTS, **kwargs)
    try:
        code = container.wait(timeout=60)["StatusCode"]
        return (code, container.logs(stderr=False).decode(), container.logs(stdout=False).decode())
    finally:
        container.remove(force=True)


def test_the_image_runs_hardstep_and_says_its_version(docker_client, image, unique):
    labels = docker_client.images.get(image).labels
    assert labels["org.opencontainers.image.version"] == VERSION
    assert _run(docker_client, image, unique("version"), ["--version"]) == (0, f"hardstep {VERSION}\n", "")


def test_config_and_state_live_under_the_mounted_host_root(docker_client, image, unique, tmp_path):
    network = unique("private")
    host = tmp_path / "host"
    (host / "etc/hardstep").mkdir(parents=True)
    (host / "etc/hardstep/config.toml").write_text(f'[docker]\nprivate_network = "{network}"\n')
    code, out, err = _run(docker_client, image, unique("check"), ["check", "private-network", "--json"], host)
    assert code in (0, 1), err  # the network does not exist: the check fails, it does not error
    [result] = json.loads(out)
    assert result["step"] == "private-network" and network in json.dumps(result)  # /host's config read
    state = json.loads((host / "var/lib/hardstep/state.json").read_text())  # state on the "host"
    assert "private-network" in json.dumps(state)
    code, out, err = _run(docker_client, image, unique("list"), ["list", "--json"], host)
    assert code == 0, err
    assert "private-network" in {row["step"] for row in json.loads(out)}


def test_host_commands_in_the_image_enter_the_hosts_namespaces(docker_client, image, unique, other_host, tmp_path):
    probe = ("from app.cli.commands import make_engine; h = make_engine(None, None, None).host; "
             f"print(h.which({PROGRAM!r})); print(h.run([{PROGRAM!r}]).stdout, end='')")
    code, out, err = _run(docker_client, image, unique("nsenter"), ["-c", probe], tmp_path, entrypoint="/opt/hardstep/bin/python",
                          environment={"HARDSTEP_HOST_NAMESPACES": str(other_host)})
    assert (code, out) == (0, f"/usr/local/bin/{PROGRAM}\non the other host: hs-other\n"), err
