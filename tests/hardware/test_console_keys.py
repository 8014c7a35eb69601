"""The consoles' keys file (hardware/keys.py): written for the owner's eyes only, read back the
same, and every bad entry named with its file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hardware.keys import KeysFileError, derive_key, load_keys, new_key, write_keys
from hardware.simulator import demo_fleet


def test_keys_survive_the_file_which_only_its_owner_may_read(tmp_path: Path) -> None:
    keys = {s.serial: s.key for s in demo_fleet(3)} | {bytes(range(8)): new_key()}
    path = tmp_path / "keys.toml"
    path.write_text("old")
    path.chmod(0o644)
    write_keys(path, keys)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keys(path) == keys
    assert list(tmp_path.iterdir()) == [path]


def test_demo_keys_are_derived_from_the_seed_alone() -> None:
    assert demo_fleet(2) == demo_fleet(2)
    assert demo_fleet(1, seed=b"other")[0].key != demo_fleet(1)[0].key
    assert demo_fleet(1)[0].key == derive_key(b"council-voting demo consoles", b"SIM\0\0\0\0\1")
    assert len({s.serial for s in demo_fleet(3) + demo_fleet(3, first_serial=4)}) == 6


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[keys]\n'53494d000000001' = '00112233445566778899aabbccddeeff'\n", "53494d000000001"),
        ("[keys]\n'53494d0000000001' = '0011'\n", "53494d0000000001"),
        ("[keys]\n'53494d000000000g' = '00112233445566778899aabbccddeeff'\n", "000g"),
        ("[keys]\n'53494d0000000001' = 7\n", "53494d0000000001"),
        (
            "[keys]\n'53494d0000000001' = '00112233445566778899aabbccddeeff'\n"
            "'53494D0000000001' = '00112233445566778899aabbccddeeff'\n",
            "twice",
        ),
        ("keys = 1\n", "no [keys] table"),
        ("[keys\n", "not valid TOML"),
    ],
)
def test_a_bad_keys_file_is_refused_naming_file_and_entry(
    tmp_path: Path, text: str, named: str
) -> None:
    path = tmp_path / "keys.toml"
    path.write_text(text)
    with pytest.raises(KeysFileError) as refused:
        load_keys(path)
    assert str(path) in str(refused.value) and named in str(refused.value)


def test_a_missing_keys_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(KeysFileError, match="missing.toml"):
        load_keys(tmp_path / "missing.toml")
