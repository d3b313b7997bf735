"""Pulling a missing image, with progress, from a real registry on loopback."""

from __future__ import annotations

import pytest

from app.engine.actions import ApplyContext
from app.containers.actions import PullImage, image_present
from app.errors import ApplyError
from tests.fixtures_core import make_engine
from tests.fixtures_registry import push_fresh_image

pytestmark = pytest.mark.docker


def test_pull_reports_progress(tmp_path, docker_client, local_registry, unique, images):
    engine = make_engine(tmp_path, unique, images)
    reference = push_fresh_image(docker_client, local_registry, unique("layer"))
    assert not image_present(engine.host, reference)
    events = []
    PullImage(reference).apply(engine.host, ApplyContext("socket-proxy", tmp_path / "b", events.append))
    fractions = [e.fraction for e in events if e.fraction is not None]
    assert any(0 < f < 1 for f in fractions), fractions  # a real, moving progress bar
    assert fractions[-1] == 1.0
    assert image_present(engine.host, reference)
    docker_client.images.remove(reference, force=True)


def test_socket_proxy_plan_pulls_a_missing_probe_image(tmp_path, docker_client, local_registry, unique, images):
    reference = push_fresh_image(docker_client, local_registry, unique("probe"))
    engine = make_engine(tmp_path, unique, images, docker={"probe_image": reference})
    engine.apply("private-network")
    plan = engine.plan("socket-proxy")
    assert [type(a).__name__ for a in plan.actions] == ["PullImage", "RunContainer"]
    assert plan.actions[0].command() == f"docker pull {reference}"


def test_pull_of_an_unknown_image_is_a_clear_error(tmp_path, local_registry, unique, images, docker_client):
    engine = make_engine(tmp_path, unique, images)
    with pytest.raises(ApplyError, match="pulling .* failed"):
        PullImage(f"{local_registry}/hardstep-test/does-not-exist:1").apply(
            engine.host, ApplyContext("socket-proxy", tmp_path / "b"))
