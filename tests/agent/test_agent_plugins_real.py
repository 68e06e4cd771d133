"""A plugin installed for real through two agents - real `pio` 26.11.1 and pio-sim - from a wheel folder the
test builds: listed on both units, then uninstalled from both. Skipped where no Python 3.13 exists."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from devcluster.broker import Broker
from devcluster.units import make_real_unit, real_pio_unavailable_reason
from tests.agent.harness import AgentProc, spied_sim_agent
from tests.plugin_wheel import MODULE, PLUGIN, VERSION, build_plugin_wheel

pytestmark = pytest.mark.real_pio


@pytest.fixture(scope="module")
def agents(mqtt_broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[AgentProc]]:
    reason = real_pio_unavailable_reason()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("agent_plugins_real")
    settings = {"allow_plugins": True, "plugins_find_links": str(build_plugin_wheel(base))}
    unit = f"realplug{secrets.token_hex(3)}"
    # the real unit gets its own layer on the shared real-pio venv: the install changes this unit only
    wrapper = make_real_unit(base / "unit", unit, mqtt_broker.host, mqtt_broker.port, plugins=True)
    real = AgentProc(base, unit, mqtt_broker, wrapper, base / "unit", **settings).start()
    try:
        with spied_sim_agent(base / "sim", mqtt_broker, "simplug", **settings) as sim:
            yield [real, sim]
    finally:
        real.close()


def _listed(agent: AgentProc) -> list[dict[str, str]]:
    status, answer = agent.get("/unit_api/plugins")
    assert status == 200, answer
    return [{"name": p["name"], "version": p["version"]} for p in answer["plugins"]]


def test_a_plugin_installs_lists_and_uninstalls_on_real_pio_and_pio_sim(agents: list[AgentProc]) -> None:
    for agent in agents:
        assert _listed(agent) == []
        done = agent.task("POST", "/unit_api/plugins/install", {"name": PLUGIN, "version": VERSION}, 300)
        assert done["status"] == "complete", done
    for agent in agents:
        assert {"name": PLUGIN, "version": VERSION} in _listed(agent)
    real = agents[0]
    layer = next((real.paths.root / "pio-env" / "lib").glob("python3.*/site-packages"))
    assert (layer / MODULE / "__init__.py").exists()  # into the unit's own environment, not the shared one

    for agent in agents:
        done = agent.task("POST", "/unit_api/plugins/uninstall", {"name": PLUGIN}, 300)
        assert done["status"] == "complete", done
        assert _listed(agent) == []
    assert not (layer / MODULE).exists()
