"""Control routes, the control client and the server wrapper."""

import httpx
import pytest

from interviews.emulator import EmulatorControl, EmulatorServer, EmulatorState, create_app


def test_health_and_stats_shape(control: EmulatorControl) -> None:
    health = control.health()
    assert health["providers"] == ["anthropic", "gemini", "openai", "vertex"]
    assert health["status"] == "ok"
    empty = {
        "batches_created": 0,
        "files_uploaded": 0,
        "requests_received": 0,
        "faults_fired": 0,
        "realtime_requests": 0,
        "calls": {},
    }
    assert control.stats() == {name: empty for name in health["providers"]}


def test_advance_moves_the_clock_forward_only(
    control: EmulatorControl, emulator: EmulatorServer
) -> None:
    before = control.health()["offset_seconds"]
    assert control.advance(3600)["offset_seconds"] == before + 3600
    response = httpx.post(
        f"{emulator.url}/_emulator/advance", json={"seconds": -1}, trust_env=False
    )
    assert response.status_code == 400


def test_config_updates_and_reset_restores_defaults(control: EmulatorControl) -> None:
    assert control.configure(processing_seconds=42)["processing_seconds"] == 42
    assert control.configure(vertex_output_files=4)["vertex_output_files"] == 4
    control.reset()
    assert control.configure() == {"processing_seconds": 1.0, "vertex_output_files": 1}


def test_bad_config_is_rejected(emulator: EmulatorServer) -> None:
    url = f"{emulator.url}/_emulator/config"
    bad = (
        {"processing_seconds": -1},
        {"speed": 2},
        [1],
        {"vertex_output_files": 0},
        {"vertex_output_files": True},
    )
    for body in bad:
        assert httpx.post(url, json=body, trust_env=False).status_code == 400


def test_server_binds_only_to_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        EmulatorServer(host="0.0.0.0")


def test_a_second_server_gets_its_own_port_and_state() -> None:
    state = EmulatorState()
    with EmulatorServer(state=state) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.port > 0
        assert server.anthropic_base_url == server.url + "/anthropic"
        assert server.openai_base_url == server.url + "/openai/v1"
        assert server.vertex_base_url == server.url + "/vertex"
        assert server.gemini_base_url == server.url + "/gemini"
        assert server.gcs_url.startswith("http://127.0.0.1:") and server.gcs_url != server.url
        with EmulatorControl(server.url) as control:
            control.advance(10)
        assert state.clock.offset == 10


def test_create_app_exposes_its_state() -> None:
    state = EmulatorState()
    assert create_app(state).state.emulator is state
