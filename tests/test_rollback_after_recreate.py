"""Rolling back in reverse order after the sandbox recreated a container another step created.

The engine cannot lift a memory or CPU limit in place, so rolling the sandbox back recreates a
container that had none: same name, same labels, a new id. The socket-proxy step's rollback then
still removes its proxy (the recreated one), and the private network can go after it. Before the
fix the removal looked for the old id only, said "already gone", and left the proxy running.
"""

from __future__ import annotations

import pytest

from tests.fixtures_core import make_engine

pytestmark = pytest.mark.docker


def test_socket_proxy_rollback_removes_the_proxy_the_sandbox_rollback_recreated(tmp_path, unique, images,
                                                                                docker_client):
    engine = make_engine(tmp_path, unique, images)
    proxy = engine.config.docker.socket_proxy_container
    engine.config = engine.config.with_value("sandbox", "containers", [proxy])
    for step in ("private-network", "socket-proxy", "sandbox"):
        assert engine.apply(step, engine.plan(step)).ok, step
    created = docker_client.containers.get(proxy).id

    assert engine.rollback("sandbox", engine.rollback_plan("sandbox")).ok
    assert docker_client.containers.get(proxy).id != created  # recreated without the limits

    events = []
    assert engine.rollback("socket-proxy", engine.rollback_plan("socket-proxy"), report=events.append).ok
    assert not docker_client.containers.list(all=True, filters={"name": f"^{proxy}$"})
    assert any("recreated since" in e.message for e in events)
    assert engine.rollback("private-network", engine.rollback_plan("private-network")).ok
