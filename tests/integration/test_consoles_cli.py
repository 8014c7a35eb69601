"""The seat consoles' commands: `voting consoles-discover` gives new consoles their addresses,
and `voting consoles` / `consoles-sim` refuse bad settings with a message that names them."""

from __future__ import annotations

import pytest

from hardware.simulator import ConsoleSimulator, SimulatedConsoleSpec, demo_fleet
from voting.cli import main


def test_discovery_gives_new_consoles_the_next_addresses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fresh = [SimulatedConsoleSpec(0, c.serial, c.key) for c in demo_fleet(3, first_serial=100)]
    with ConsoleSimulator(fresh) as simulator:
        host, port = simulator.serve_tcp()
        code = main(
            ["consoles-discover", "--port", f"socket://{host}:{port}", "--first-address", "7"]
        )
        out = capsys.readouterr().out
        assert code == 0, out
        assert "3 new console(s)" in out
        for spec in fresh:
            assert spec.serial.hex() in out
        # each console took its address (the simulator finds it there), none is left unassigned
        for address in (7, 8, 9):
            simulator.pending(address)
        with pytest.raises(KeyError):
            simulator.pending(0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["consoles"], "no console ports"),
        (["consoles-sim", "--count", "97"], "--count must be 1-96"),
        (["consoles-sim", "--tcp", "nohostport"], "--tcp must be HOST:PORT"),
        (["consoles-discover", "--port", "loop://", "--first-address", "0"], "1-65534"),
    ],
)
def test_bad_console_settings_are_named(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err
