"""The `voting` command, run by the operator on the server machine.

Exit status: 0 on success, 1 when `journal verify` finds the journal broken, 2 on a user error
(bad arguments, configuration, input file or database), with the problem named on stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import os
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from voting.adapters.schema import current_revision, head_revision, upgrade
from voting.bootstrap import Runtime, build_runtime
from voting.config import (
    MAX_CONSOLES_PER_PORT,
    Config,
    ConfigError,
    ConsolePortConfig,
    DatabaseConfig,
    load_config,
    read_secret,
)
from voting.domain.actors import SYSTEM, Actor, Role
from voting.domain.errors import DomainError, NotFound
from voting.domain.journal import Anchor
from voting.services import auth, council, demo, queries
from voting.services import journal as journal_service
from voting.services.commands import CreateToken
from voting.services.journal import verify_journal
from voting.services.roster_import import RosterImportError, parse_deputies_csv

if TYPE_CHECKING:
    from hardware.gateway import Segment

ENV_PASSWORD = "VOTING_PASSWORD"
DEMO_DATABASE = "demo.sqlite3"
DEMO_TOKENS = "demo-tokens.json"
GATEWAY_SWITCH_INTERVAL = 0.0005  # s: the gateway process's sys.setswitchinterval (cmd_consoles)
ROLES = auth.ROLES

# The roster use cases are the secretary's; the operator at the server's console acts as one.
# Everything else the CLI does (council, logins, tokens) runs as SYSTEM.
OPERATOR = Actor(Role.SECRETARY, "secretary:cli")


class UserError(Exception):
    """A problem the person running the command can fix; shown as `error: ...`, exit status 2."""


# --- databases ---------------------------------------------------------------------------------


def shown_url(url: str) -> str:
    """The database URL with any password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(//[^/:@]*:)[^/@]*@", r"\1***@", url)


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    return None if not path or path == ":memory:" else Path(path)


def open_database(
    config: Config, *, must_be_set_up: bool = True, serving: bool = False, needs_key: bool = True
) -> Runtime:
    """The runtime of this command over the configured database (built, not started: a command
    that serves starts it); unless told otherwise, the schema must already be current and the
    journal's key must be at hand (every change is journaled with it).
    `serving`: the process will hold many connections (its garbage collector is paced)."""
    journal, instance = config.journal, config.server.instance_path
    if needs_key and journal.key(instance) is None:
        variable = f" nor the variable {journal.key_env}" if journal.key_env else ""
        raise UserError(
            f"the journal's key is missing: neither {journal.key_path(instance)}{variable} "
            "holds it; restore it from its backup (a new installation: run `voting init`, which "
            "creates it)"
        )
    url = config.database_url_resolved()
    sqlite = _sqlite_path(url)
    if must_be_set_up and sqlite is not None and not sqlite.exists():
        raise UserError(f"there is no database at {sqlite}; run `voting init` first")
    try:
        rt = build_runtime(config, collector_pacer=serving)
    except ArgumentError as error:
        raise UserError(f"the database URL {shown_url(url)} cannot be used: {error}") from None
    if must_be_set_up:
        try:
            found, needed = current_revision(rt.engine), head_revision()
        except DBAPIError as error:
            rt.stop()
            raise UserError(
                f"cannot open the database {shown_url(url)}: {_first_line(error)}"
            ) from None
        if found != needed:
            rt.stop()
            state = (
                "is empty" if found is None else f"has schema {found}, this program needs {needed}"
            )
            raise UserError(f"the database {shown_url(url)} {state}; run `voting init` first")
    return rt


def _first_line(error: DBAPIError) -> str:
    text = str(error.orig if error.orig is not None else error).strip()
    return text.splitlines()[0] if text else error.__class__.__name__


def _has_council(rt: Runtime) -> bool:
    try:
        queries.council_info(rt.uow())
    except NotFound:
        return False
    return True


# --- init and serve ----------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    """Create or upgrade the database and create the council from config.toml."""
    config = load_config(args.config)
    url = config.database_url_resolved()
    print(f"Database: {shown_url(url)}")
    rt = open_database(config, must_be_set_up=False, needs_key=False)
    try:
        try:
            before = current_revision(rt.engine)
            upgrade(rt.engine)
        except DBAPIError as error:
            raise UserError(
                f"cannot set up the database {shown_url(url)}: {_first_line(error)}"
            ) from None
        after = current_revision(rt.engine)
        print(
            "Schema created."
            if before is None
            else "Schema is up to date."
            if before == after
            else f"Schema upgraded to {after}."
        )
        key, created = ensure_journal_key(config, rt)
        if created:
            print(
                f"Journal key written to {key}: back it up apart from the database "
                "(docs/security.md)"
            )
        try:
            keyed = journal_service.authenticate_unkeyed(rt.uow(), SYSTEM)
        except journal_service.JournalBroken as error:
            raise UserError(str(error)) from None
        if keyed:
            print(f"{keyed} journal entries written before the key now carry its codes")
        if _has_council(rt):
            print(f"Council: {queries.council_info(rt.uow())['name']} (already set up)")
        else:
            _create_council(rt, config)
            print(f"Council created: {config.council.name}")
        secret, created = ensure_gateway_secret(config)
        if created:
            print(f"Console gateway secret written to {secret} (keep it out of the repository)")
    finally:
        rt.stop()
    return 0


def ensure_journal_key(config: Config, rt: Runtime) -> tuple[Path, bool]:
    """The journal's key file (config.toml [journal] key_file): created, random and readable by
    its owner only, when no key is at hand (neither the file nor the variable) and the journal
    was never written with one; the runtime then journals with it. Returns its path and whether
    it was created. A journal written with a key that is not at hand needs that key back: a
    new one would make every entry look forged."""
    path = config.journal.key_path(config.server.instance_path)
    if rt.journal_key is not None:
        return path, False
    if journal_service.has_codes(rt.reader()):
        raise UserError(
            f"the journal was written with a key that is not at hand ({path}, or the variable "
            f"{config.journal.key_env or '(none named)'}): restore it from its backup; a new "
            "key would make every entry look forged"
        )
    _write_secret(path)
    rt.journal_key = config.journal.key(config.server.instance_path)
    return path, True


def _write_secret(path: Path) -> None:
    """A new random secret in a file only its owner may read."""
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secrets.token_urlsafe(32) + "\n")


def ensure_gateway_secret(config: Config) -> tuple[Path, bool]:
    """The console gateway's shared secret (config.toml [consoles] secret_file): created, random
    and readable by its owner only, when missing. Returns its path and whether it was created."""
    path = config.consoles.path(config.consoles.secret_file, config.server.instance_path)
    if read_secret(path) is not None:
        return path, False
    _write_secret(path)
    return path, True


def _create_council(rt: Runtime, config: Config) -> None:
    c = config.council
    council.create_council(
        rt.uow(),
        SYSTEM,
        {
            "name": c.name,
            "edrpou": c.edrpou,
            "katottg": c.katottg,
            "place": c.place or None,
            "statutory_deputies": c.statutory_deputies,
            "head_votes": c.head_votes,
            **{
                k: getattr(config.rules, k)
                for k in (
                    "quorum_counts_head",
                    "quorum_numerator",
                    "quorum_denominator",
                    "default_rule",
                    "revote_limit",
                    "default_time_limit_seconds",
                    "allow_change_choice",
                    "registration_required_to_vote",
                    "show_running_split",
                )
            },
        },
    )


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the web application and the vote timer until Ctrl+C."""
    from voting.web import create_app
    from voting.web.server import serve

    config = load_config(args.config)
    url = config.database_url_resolved()
    rt = open_database(config, serving=True)
    try:
        name = queries.council_info(rt.uow())["name"]
        print(f"Database: {shown_url(url)}; council: {name}")
        serve(
            create_app(config, rt),
            args.host or config.server.host,
            config.server.port if args.port is None else args.port,
        )
    finally:
        rt.stop()
    return 0


# --- the seat consoles ---------------------------------------------------------------------------


def _port_settings(
    config: Config, ports: list[str] | None, count: int, first_seat: int
) -> list[Segment]:
    """The bus segments: config.toml's [[console_ports]], or the ports given on the command line
    (addresses 1..count each, seats numbered on from first_seat)."""
    from hardware.bus import PortSettings
    from hardware.gateway import Segment

    timeout = config.consoles.reply_timeout_ms / 1000
    if ports:
        given = []
        for index, url in enumerate(ports):
            given.append(
                ConsolePortConfig(url=url, count=count, first_seat=first_seat + index * count)
            )
        configured = tuple(given)
    else:
        configured = config.console_ports
    if not configured:
        raise UserError("no console ports: add [[console_ports]] to config.toml or give --port URL")
    return [
        Segment(
            PortSettings(
                url=p.url,
                baudrate=p.baudrate,
                rs485=p.rs485,
                low_latency=p.low_latency,
                reply_timeout=timeout,
                addresses=tuple(p.seats()),
            ),
            p.seats(),
        )
        for p in configured
    ]


def _wait_for_signal() -> None:
    """Block until Ctrl+C or SIGTERM."""
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


def cmd_consoles(args: argparse.Namespace) -> int:
    """Run the console gateway: the bus masters of the seat consoles, reporting to the server."""
    from hardware.gateway import Gateway
    from hardware.keys import KeysFileError, load_keys

    config = load_config(args.config)
    consoles = config.consoles
    instance = config.server.instance_path
    segments = _port_settings(config, args.port, args.count, args.first_seat)
    try:
        keys = load_keys(consoles.path(args.keys or consoles.keys_file, instance))
    except KeysFileError as error:
        raise UserError(str(error)) from None
    secret_path = consoles.path(consoles.secret_file, instance)
    secret = read_secret(secret_path)
    if secret is None:
        raise UserError(f"{secret_path}: the gateway's secret is missing (`voting init` writes it)")
    server = args.server_url or consoles.server_url
    server = server or f"http://{config.server.host}:{config.server.port}"
    gateway = Gateway(segments, keys, server, secret)
    seats = sum(len(s.seats) for s in segments)
    # The bus masters wait on the wire most of the time and must take the interpreter the moment
    # an answer arrives: a thread busy with the server's pushes would otherwise keep it for the
    # default 5 ms, longer than a console's whole turn on the bus.
    sys.setswitchinterval(GATEWAY_SWITCH_INTERVAL)
    print(f"Console gateway: {seats} seats on {len(segments)} port(s), server {server}", flush=True)
    gateway.start()
    try:
        _wait_for_signal()
    finally:
        gateway.stop()
    return 0


class _Quiet:
    """A bus listener for discovery, which reports nothing."""

    def __getattr__(self, _name: str) -> Callable[..., None]:
        return lambda *_args: None


def cmd_consoles_discover(args: argparse.Namespace) -> int:
    """Find the new consoles (address 0) on a bus port and give them addresses, in the order
    they answer: then write the seat map in config.toml."""
    import time

    from hardware.bus import BusMaster, PortSettings

    if not 1 <= args.first_address <= 0xFFFE:
        raise UserError(f"--first-address must be 1-65534, got {args.first_address}")
    master = BusMaster(PortSettings(url=args.port, reply_timeout=0.02), {}, _Quiet())
    master.start()
    try:
        found: list[bytes] = []
        for _ in range(args.rounds):
            for serial in _discover(master, args.slots):
                if serial not in found:
                    found.append(serial)
                    address = args.first_address + len(found) - 1
                    master.assign(serial, address)
                    print(f"console {serial.hex()} -> address {address}", flush=True)
            time.sleep(0.05)
    finally:
        master.stop()
    print(f"{len(found)} new console(s) on {args.port}")
    return 0


def _discover(master: Any, slots: int) -> list[bytes]:
    """One DISCOVER round, once the master has opened its port (within 5 s)."""
    import time

    deadline = time.monotonic() + 5
    while True:
        try:
            found: list[bytes] = master.discover(slots)
            return found
        except (ConnectionError, TimeoutError) as error:
            if time.monotonic() > deadline:
                raise UserError(f"{master.port_name}: {error}") from None
            time.sleep(0.1)


def _host_port(value: str, option: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UserError(f"{option} must be HOST:PORT, got {value!r}")
    return host, int(port)


def _sim_cards(path: str | None) -> dict[int, tuple[str, str]]:
    """--cards: {"<address>": ["<name>", "<card UID hex>"]}, checked."""
    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: cannot read the cards: {error}") from None
    expected = f'{path}: expected {{"<address>": ["<name>", "<card UID>"]}}'
    if not isinstance(data, dict):
        raise UserError(expected)
    cards: dict[int, tuple[str, str]] = {}
    for key, value in data.items():
        if not (key.isdigit() and isinstance(value, list) and len(value) == 2):
            raise UserError(expected)
        name, uid = value
        if not (isinstance(name, str) and isinstance(uid, str)):
            raise UserError(expected)
        cards[int(key)] = (name, uid)
    return cards


def cmd_consoles_sim(args: argparse.Namespace) -> int:
    """Simulate seat consoles on a pseudo-terminal (or a TCP port) for the gateway to drive."""
    from hardware.keys import KeysFileError, load_keys
    from hardware.sim_page import serve_page
    from hardware.simulator import ConsoleSimulator, SimulatedConsoleSpec, demo_fleet

    if not 1 <= args.count <= 96:
        raise UserError(f"--count must be 1-96 consoles (one segment), got {args.count}")
    fleet = demo_fleet(args.count, args.first_address)
    if args.keys:
        try:
            keys = load_keys(args.keys)
        except KeysFileError as error:
            raise UserError(str(error)) from None
        if len(keys) < args.count:
            raise UserError(f"{args.keys} holds {len(keys)} keys, not {args.count}")
        fleet = [
            SimulatedConsoleSpec(args.first_address + i, serial, keys[serial])
            for i, serial in enumerate(sorted(keys)[: args.count])
        ]
    tcp = _host_port(args.tcp, "--tcp") if args.tcp else None
    page = _host_port(args.http, "--http") if args.http else None
    cards = _sim_cards(args.cards)
    with ConsoleSimulator(fleet) as simulator:
        if tcp is None:
            print(simulator.open_pty(), flush=True)
        else:
            host, port = simulator.serve_tcp(*tcp)
            print(f"socket://{host}:{port}", flush=True)
        server = None
        if page is not None:
            server, thread = serve_page(simulator, page[0], page[1], cards)
            bound = server.server_address
            print(f"http://{bound[0]!s}:{bound[1]}/", flush=True)
        try:
            _wait_for_signal()
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()
                thread.join(timeout=5)
    return 0


# --- demo --------------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    """Build (or reuse) a demonstration council with an open sitting, print tokens, and serve."""
    config = load_config(args.config)
    instance = Path(config.server.instance_path).expanduser().absolute()
    url = args.database_url or f"sqlite:///{(instance / DEMO_DATABASE).as_posix()}"
    if args.seats is not None and not demo.MIN_SEATS <= args.seats <= demo.MAX_SEATS:
        raise UserError(  # before anything is touched
            f"--seats: a demo hall has {demo.MIN_SEATS}-{demo.MAX_SEATS} seats (the mayor's one "
            f"of them), got {args.seats}"
        )
    if args.fresh:
        _delete_demo_database(url)
    config = dataclasses.replace(config, database=DatabaseConfig(url=url))
    rt = open_database(config, must_be_set_up=False, serving=not args.no_serve, needs_key=False)
    try:
        try:
            upgrade(rt.engine)
        except DBAPIError as error:
            raise UserError(
                f"cannot set up the database {shown_url(url)}: {_first_line(error)}"
            ) from None
        ensure_journal_key(config, rt)
        if _has_council(rt):
            info = demo.load_demo(rt)
            if args.seats is not None and args.seats != info.participants:
                raise UserError(
                    f"the demo built earlier in {shown_url(url)} has {info.participants} seats, "
                    f"not {args.seats}: add --fresh to build one of {args.seats}"
                )
            print(
                f"Reusing the demo built earlier in {shown_url(url)} "
                "(--fresh starts over); new tokens follow."
            )
        else:
            print(f"Building the demo in {shown_url(url)} ...", flush=True)
            info = demo.build_demo(
                rt,
                datetime.now(ZoneInfo(config.server.timezone)).date(),
                demo.DEMO_SEATS if args.seats is None else args.seats,
            )
        demo.ensure_demo_logins(rt)
        tokens = demo.issue_demo_tokens(rt, info)
        tokens_path = instance / DEMO_TOKENS
        host = args.host or config.server.host
        port = config.server.port if args.port is None else args.port

        hall = None
        if not args.no_serve and not args.no_consoles:
            from voting.console_demo import ConsoleDemo

            ensure_gateway_secret(config)
            # One simulated bus: the first seats' consoles (a segment holds 96 at most); the
            # other seats of a larger hall vote at terminals.
            seats = {d.seat_number: (d.full_name, d.card_uid) for d in info.deputies}
            on_bus = {s: c for s, c in seats.items() if s and s <= MAX_CONSOLES_PER_PORT}
            hall = ConsoleDemo(instance, args.config, on_bus)
            hall.start_simulator()

        def present(base_url: str) -> None:
            _write_tokens(tokens_path, info, tokens, base_url, url)
            _print_demo(info, tokens, base_url, tokens_path, url)
            if hall is not None:
                hall.start_gateway(base_url)
                print(
                    f"Seat consoles: {hall.count} simulated on {hall.bus}, driven by the "
                    f"console gateway (`voting consoles`)\n  Hall of consoles: {hall.page}",
                    flush=True,
                )

        if args.no_serve:
            from voting.web.server import display_url

            present(display_url(host, port))
            return 0
        from voting.web import create_app
        from voting.web.server import serve

        try:
            serve(create_app(config, rt), host, port, on_ready=present)
        finally:
            if hall is not None:
                hall.stop()
    finally:
        rt.stop()
    return 0


def _delete_demo_database(url: str) -> None:
    """--fresh: remove the demo's SQLite file (and its WAL files); never another database."""
    path = _sqlite_path(url)
    if path is None:
        raise UserError(
            f"--fresh deletes only an SQLite demo file; empty {shown_url(url)} "
            "yourself or name another database with --database-url"
        )
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    print(f"Deleted the old demo database {path}")


def _write_tokens(
    path: Path, info: demo.DemoInfo, tokens: demo.DemoTokens, base_url: str, url: str
) -> None:
    """Every demo token in one JSON file that only its owner may read."""

    def person(d: demo.DemoDeputy) -> dict[str, object]:
        return {
            "deputy_id": d.id,
            "seat_number": d.seat_number,
            "full_name": d.full_name,
            "faction": d.faction,
            "voting_identifier": d.voting_identifier,
            "card_uid": d.card_uid,
            "pin": d.pin,
            "token": tokens.deputies[d.id],
        }

    data = {
        "api": f"{base_url}/api/v1",
        "database": shown_url(url),
        "sitting_id": info.sitting_id,
        "items": [
            {"id": i.id, "position": i.position, "draft_number": i.draft_number, "title": i.title}
            for i in info.items
        ],
        "secretary": tokens.secretary,
        "chair": tokens.chair,
        "logins": [{"username": name, "password": demo.DEMO_PASSWORD} for name in demo.DEMO_LOGINS],
        "mayor": person(info.head),
        "deputies": [person(d) for d in info.deputies],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    path.chmod(0o600)  # a file left by an earlier run keeps its old mode otherwise


def _print_demo(
    info: demo.DemoInfo, tokens: demo.DemoTokens, base_url: str, tokens_path: Path, url: str
) -> None:
    api = f"{base_url}/api/v1"
    first = info.deputies[0]
    item = info.items[0].id if info.items else 1
    state = "" if info.sitting_state == "open" else f" (it is {info.sitting_state}: use --fresh)"
    sitting = info.sitting_id
    auth_secretary = '-H "Authorization: Bearer $SECRETARY"'
    as_json = '-H "Content-Type: application/json"'
    as_first = f'-H "Authorization: Bearer {tokens.deputies[first.id]}"'
    quorum = len(info.deputies) // 2 + 1  # more than half of the council's deputies
    enough = min(len(info.deputies), quorum + 3)
    register_all = (
        f"for t in $(jq -r '.deputies[1:{enough}][].token' \"$TOKENS\"); do curl -s -o /dev/null "
        f'-X POST -H "Authorization: Bearer $t" $API/sittings/{sitting}/register; done'
    )
    new_vote = f'\'{{"item_id": {item}, "kind": "roll_call"}}\''
    open_vote = (
        f"VOTE=$(curl -s -X POST {auth_secretary} {as_json} -d {new_vote} "
        f"$API/sittings/{sitting}/votes | jq .vote_id)"
    )
    logins = ", ".join(f"{n} / {demo.DEMO_PASSWORD}" for n in demo.DEMO_LOGINS)
    print(f"""
Demo council "{info.council_name}": {len(info.deputies)} deputies and the mayor,
sitting {sitting} of {info.sitting_date} with {len(info.items)} agenda items{state}.

Open in a browser (add ?lang=en for English):
  Control screen:  {base_url}/control    sign in as {logins}
  Hall display:    {base_url}/display    (1920x1080; broadcast overlay: {base_url}/display/overlay)
  Public page:     {base_url}/live
  Deputy terminals: {base_url}/terminal  sign in with a card UID and PIN, or open a seat's link:""")
    for d in info.deputies[:4]:
        print(
            f"    seat {d.seat_number}, {d.full_name}: card {d.card_uid}, PIN {d.pin}"
            f"  or  {base_url}/terminal#token={tokens.deputies[d.id]}"
        )
    print(
        f"""    (every deputy's card is in {tokens_path}; the PIN is the seat number in four digits)

API:      {api}
OpenAPI:  {api}/openapi.json
Secretary token: {tokens.secretary}
All tokens (secretary, chair, every deputy and the mayor): {tokens_path}
Other commands work on the demo with VOTING_DATABASE_URL={url}

Try it from another terminal (jq reads the tokens file):
  API={api}
  TOKENS={tokens_path}
  SECRETARY=$(jq -r .secretary "$TOKENS")
  # open registration
  curl -s -X POST {auth_secretary} $API/sittings/{sitting}/registration/open
  # register as deputy {first.id} ({first.full_name}); the quorum needs {quorum}, so the loop \
registers {enough}
  curl -s -X POST {as_first} $API/sittings/{sitting}/register
  {register_all}
  # open a roll-call vote on agenda item {item}
  {open_vote}
  # cast a choice as deputy {first.id}
  curl -s -X POST {as_first} {as_json} -d '{{"choice": "for"}}' $API/votes/$VOTE/choices
  # close the vote and see the result
  curl -s -X POST {auth_secretary} $API/votes/$VOTE/close | jq .result
""",
        flush=True,
    )


# --- roster, logins, tokens, journal -----------------------------------------------------------


def cmd_import_deputies(args: argparse.Namespace) -> int:
    """Add every deputy of an open-data CSV file (structure "deputies"), or none of them."""
    config = load_config(args.config)
    try:
        records = parse_deputies_csv(Path(args.file).read_bytes())
    except RosterImportError as error:
        raise UserError(f"{args.file}: {error}; nobody was imported") from None
    rt = open_database(config)
    try:
        ids = council.import_deputies(rt.uow(), OPERATOR, records)
    finally:
        rt.stop()
    print(f"Imported {len(ids)} deputies from {args.file}.")
    return 0


def _read_password() -> str:
    from_env = os.environ.get(ENV_PASSWORD)
    if from_env:
        return from_env
    return _ask_twice("Password: ", "Repeat the password: ", "password", "passwords")


def _ask_twice(prompt: str, again: str, what: str, whats: str) -> str:
    """A secret typed twice at the terminal (never echoed); refused when the two differ."""
    try:
        first = getpass.getpass(prompt)
        second = getpass.getpass(again)
    except (EOFError, KeyboardInterrupt):
        raise UserError(f"no {what} given; nothing was saved") from None
    if first != second:
        raise UserError(f"the two {whats} differ; nothing was saved")
    return first


def _check_deputy_option(args: argparse.Namespace) -> None:
    if args.role == "deputy" and args.deputy is None:
        raise UserError(
            "a deputy's login or token needs --deputy ID "
            "(the deputy's id, as in GET /api/v1/deputies)"
        )
    if args.role != "deputy" and args.deputy is not None:
        raise UserError(f"--deputy is only for the role deputy, not {args.role}")


def cmd_user_add(args: argparse.Namespace) -> int:
    """Add a login (password from $VOTING_PASSWORD, or asked twice)."""
    _check_deputy_option(args)
    config = load_config(args.config)
    rt = open_database(config)
    try:
        password = _read_password()
        auth.add_user(rt.uow(), SYSTEM, args.username, password, args.role, args.deputy)
    finally:
        rt.stop()
    whom = f" for deputy {args.deputy}" if args.deputy is not None else ""
    print(f"User {args.username} added with the role {args.role}{whom}.")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    """Create an API bearer token and print it once (only its hash is stored)."""
    _check_deputy_option(args)
    config = load_config(args.config)
    rt = open_database(config)
    try:
        command = CreateToken.parse(
            {"role": args.role, "deputy_id": args.deputy, "label": args.label}
        )
        token = auth.create_token(rt.uow(), SYSTEM, command)
    finally:
        rt.stop()
    print(token)
    print(
        f"Token for the role {args.role} created. It is shown only now: only its hash is stored.",
        file=sys.stderr,
    )
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    """List the API tokens: id, role, deputy, label, created, revoked (never the tokens)."""
    config = load_config(args.config)
    rt = open_database(config, needs_key=False)  # it only reads
    try:
        rows = auth.list_tokens(rt.uow(), SYSTEM)
    finally:
        rt.stop()
    if not rows:
        print("No tokens have been issued.")
        return 0
    header = ("ID", "ROLE", "DEPUTY", "LABEL", "CREATED", "REVOKED")
    table = [header] + [
        (
            str(r["id"]),
            str(r["role"]),
            "-" if r["deputy_id"] is None else str(r["deputy_id"]),
            str(r["label"]),
            _minute(r["created_at"]),
            _minute(r["revoked_at"]) or "-",
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    return 0


def _minute(moment: object) -> str:
    """An ISO time from the service, shown to the second in UTC."""
    if moment is None:
        return ""
    return datetime.fromisoformat(str(moment)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def cmd_token_revoke(args: argparse.Namespace) -> int:
    """Revoke an API token by its id (see `voting token list`); it stops working at once."""
    config = load_config(args.config)
    rt = open_database(config)
    try:
        result = auth.revoke_token(rt.uow(), SYSTEM, args.id)
    finally:
        rt.stop()
    print(f"Token {result['id']} revoked at {_minute(result['revoked_at'])}.")
    return 0


def _find_deputy(rt: Runtime, which: str) -> dict[str, object]:
    """A deputy by seat number ("12") or by id ("id:57")."""
    people = queries.deputies(rt.uow())
    if which.startswith("id:") and which[3:].isascii() and which[3:].isdigit():
        found = [d for d in people if d["id"] == int(which[3:])]
        if not found:
            raise UserError(
                f"there is no deputy with the id {which[3:]} (see GET /api/v1/deputies)"
            )
        return found[0]
    if which.isascii() and which.isdigit():
        found = [d for d in people if d["seat_number"] == int(which)]
        if not found:
            raise UserError(
                f"no deputy has the seat {which}; "
                "give a seat number, or id:N for the deputy with the id N"
            )
        return found[0]
    raise UserError(f"{which!r} is neither a seat number (e.g. 12) nor id:N (the deputy's id)")


def _read_pin() -> str:
    """The PIN: asked twice at a terminal, or the first line of standard input for scripts."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise UserError("no PIN on standard input; nothing was saved")
        return line
    return _ask_twice("PIN (4 to 8 digits): ", "Repeat the PIN: ", "PIN", "PINs")


def cmd_deputy_pin(args: argparse.Namespace) -> int:
    """Set the PIN a deputy types with their card at a terminal (asked twice, or read from
    standard input); only its hash is stored."""
    config = load_config(args.config)
    rt = open_database(config)
    try:
        person = _find_deputy(rt, args.deputy)
        auth.set_deputy_pin(rt.uow(), SYSTEM, person["id"], _read_pin())
    finally:
        rt.stop()
    seat = "" if person["seat_number"] is None else f"seat {person['seat_number']}, "
    print(f"PIN set for {seat}{person['full_name']} (deputy {person['id']}).")
    return 0


def cmd_journal_verify(args: argparse.Namespace) -> int:
    """Check the journal's chain, its authentication codes (with the key), the published anchors
    and the record against it; exit 1 and name the first broken entry or differing row."""
    try:
        anchors = [Anchor.parse(text) for text in args.anchor]
    except ValueError as error:
        raise UserError(f"--anchor: {error}") from None
    config = load_config(args.config)
    rt = open_database(config, needs_key=False)
    try:
        report = verify_journal(rt.reader(one_snapshot=True), anchors)
    finally:
        rt.stop()
    print(report.describe())
    return 0 if report.ok else 1


# --- the official record: protocols, roll-call sheets, attendance (issue 14) -------------------


def _record_zone(config: Config) -> ZoneInfo:
    return ZoneInfo(config.server.timezone)


def _writable_target(out: str) -> Path:
    """The output file's path, refused early when its folder is missing or not writable."""
    path = Path(out).expanduser()
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UserError(f"{path} is a folder; give the PDF file's name")
    if not folder.is_dir():
        raise UserError(f"cannot write {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UserError(f"cannot write {path}: the folder {folder} is not writable")
    return path


def _render_to(kind: str, model: Any, path: Path) -> None:
    """Render in this process (the CLI is not the web process), with a progress bar on a
    terminal, into a temporary file moved into place: no partial file on any error."""
    from protocols.render import render
    from protocols.worker import write_atomically

    if sys.stderr.isatty():
        from rich.progress import Progress as Bar

        with Bar(transient=True) as bar:
            task = bar.add_task(f"{kind} → {path.name}", total=None)
            data = render(
                kind, model, lambda done, total: bar.update(task, completed=done, total=total)
            )
    else:
        data = render(kind, model)
    try:
        write_atomically(path, data)
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror or error}") from None
    print(f"{path}: {len(data):,} bytes", file=sys.stderr)


def _write_record(
    args: argparse.Namespace, kind: str, read: Callable[[Runtime, Any], object]
) -> int:
    """Read the record's model from the database (`read(runtime, zone)`), then render it to
    --out: the target is checked first, the database closed before rendering."""
    path = _writable_target(args.out)
    config = load_config(args.config)
    rt = open_database(config, needs_key=False)  # it only reads
    try:
        model = read(rt, _record_zone(config))
    finally:
        rt.stop()
    _render_to(kind, model, path)
    return 0


def cmd_protocol(args: argparse.Namespace) -> int:
    """Write the protocol of a closed sitting as PDF."""
    from voting.services import records

    return _write_record(
        args, "protocol", lambda rt, zone: records.sitting_record(rt.reader(), args.sitting, zone)
    )


def cmd_rollcall(args: argparse.Namespace) -> int:
    """Write the roll-call sheet of a closed vote as PDF."""
    from voting.services import records

    return _write_record(
        args, "rollcall", lambda rt, zone: records.roll_call_sheet(rt.reader(), args.vote, zone)
    )


def _date_option(value: str | None, option: str) -> Any:
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option} must be a date such as 2026-11-25, got {value!r}") from None


def cmd_attendance(args: argparse.Namespace) -> int:
    """Write who registered at each round of the closed sittings of a period (or one) as PDF."""
    from voting.services import records

    first, last = _date_option(args.date_from, "--from"), _date_option(args.date_to, "--to")
    if args.sitting is None and (first is None or last is None):
        raise UserError("give --from and --to, or --sitting")
    return _write_record(
        args,
        "attendance",
        lambda rt, zone: records.attendance_report(
            rt.reader(), date_from=first, date_to=last, sitting_id=args.sitting, zone=zone
        ),
    )


def _add_record_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    protocol = command("protocol", cmd_protocol)
    protocol.add_argument("sitting", type=int, metavar="SITTING_ID")
    rollcall = command("rollcall", cmd_rollcall)
    rollcall.add_argument("vote", type=int, metavar="VOTE_ID")
    attendance = command("attendance", cmd_attendance)
    attendance.add_argument("--from", dest="date_from", metavar="DATE", help="YYYY-MM-DD")
    attendance.add_argument("--to", dest="date_to", metavar="DATE", help="YYYY-MM-DD")
    attendance.add_argument("--sitting", type=int, metavar="ID", help="one sitting instead")
    for p in (protocol, rollcall, attendance):
        p.add_argument("--out", required=True, metavar="FILE.pdf", help="the PDF to write")


# --- open data in the national structures (issue 14) -------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    """Write the open data of closed plenary sittings (annexes 29 and 30 of CMU Resolution 835)
    as CSV and JSON, one file per resource, into a folder."""
    from voting.services import export

    selection = export.Selection(
        sitting_id=args.sitting,
        session_id=args.session,
        convocation_id=args.convocation,
        date_from=_date_option(args.date_from, "--from"),
        date_until=_date_option(args.date_to, "--to"),
    )
    out = export.check_target(Path(args.out).expanduser())
    config = load_config(args.config)
    rt = open_database(config, needs_key=False)  # it only reads
    try:
        report = export.export(rt.reader(), selection, out)
    finally:
        rt.stop()
    print(f"Wrote {len(report.files)} files for {selection.describe()} into {report.folder}:")
    for path in report.files:
        print(f"  {path.name}: {report.rows[path.stem]} rows")
    for resource, columns in report.unfilled.items():
        print(
            f"note: {resource}: required columns left blank (the voting system does not hold "
            f"them; complete them before publishing): {', '.join(columns)}"
        )
    return 0


def _add_export_command(command: Callable[..., argparse.ArgumentParser]) -> None:
    p = command("export", cmd_export)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--sitting", type=int, metavar="SITTING_ID", help="one closed sitting")
    which.add_argument("--session", type=int, metavar="ID", help="the sittings of a session")
    which.add_argument("--convocation", type=int, metavar="ID", help="those of a convocation")
    which.add_argument("--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="last day (with --from)")
    p.add_argument("--out", required=True, metavar="DIR", help="the folder to write the files to")


# --- the parser --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    # --config is accepted before or after the subcommand.
    # (Parents share their action objects, so the default must stay SUPPRESS: main() fills it.)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="path to config.toml (default: $VOTING_CONFIG or ./config.toml)",
    )
    parser = argparse.ArgumentParser(
        prog="voting", parents=[common], description="Electronic voting for a city council."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str,
        func: Callable[[argparse.Namespace], int],
        parent: argparse._SubParsersAction[argparse.ArgumentParser] = sub,
    ) -> argparse.ArgumentParser:
        doc = (func.__doc__ or "").strip()
        p = parent.add_parser(name, parents=[common], help=doc, description=doc)
        p.set_defaults(func=func)
        return p

    command("init", cmd_init)
    serve = command("serve", cmd_serve)
    demo_cmd = command("demo", cmd_demo)
    for p in (serve, demo_cmd):
        p.add_argument("--host", help="address to listen on (default: server.host)")
        p.add_argument("--port", type=int, help="TCP port (default: server.port; 0 = any free)")
    demo_cmd.add_argument(
        "--fresh", action="store_true", help="delete the old demo database and build a new one"
    )
    demo_cmd.add_argument(
        "--no-serve", action="store_true", help="build and print the tokens, then exit"
    )
    demo_cmd.add_argument(
        "--no-consoles", action="store_true", help="without the simulated seat consoles"
    )
    demo_cmd.add_argument(
        "--seats",
        type=int,
        metavar="N",
        help=f"a hall of N seats, the mayor's one of them ({demo.MIN_SEATS}-{demo.MAX_SEATS}; "
        f"default {demo.DEMO_SEATS}); consoles for the first {MAX_CONSOLES_PER_PORT}",
    )
    demo_cmd.add_argument(
        "--database-url",
        metavar="URL",
        help=f"database for the demo (default: <instance>/{DEMO_DATABASE})",
    )

    consoles = command("consoles", cmd_consoles)
    consoles.add_argument(
        "--port",
        action="append",
        metavar="URL",
        help="a bus port instead of config.toml's [[console_ports]] (repeatable)",
    )
    consoles.add_argument("--count", type=int, default=42, help="consoles per --port (1-96)")
    consoles.add_argument("--first-seat", type=int, default=1, help="seat of the first --port's 1")
    consoles.add_argument("--keys", metavar="FILE", help="keys file (default: consoles.keys_file)")
    consoles.add_argument("--server-url", metavar="URL", help="default: consoles.server_url")
    discover = command("consoles-discover", cmd_consoles_discover)
    discover.add_argument(
        "--port", required=True, metavar="URL", help="the bus port (pyserial URL)"
    )
    discover.add_argument("--first-address", type=int, default=1, help="the first address to give")
    discover.add_argument("--slots", type=int, default=16, help="answer slots per round (1-255)")
    discover.add_argument("--rounds", type=int, default=5, help="rounds (collisions retry)")
    sim = command("consoles-sim", cmd_consoles_sim)
    sim.add_argument("--count", type=int, default=42, help="how many consoles (1-96)")
    sim.add_argument("--first-address", type=int, default=1, help="the first console's address")
    sim.add_argument(
        "--keys", metavar="FILE", help="their serials and keys (default: the demo's derived keys)"
    )
    sim.add_argument("--tcp", metavar="HOST:PORT", help="serve on TCP instead of a pseudo-terminal")
    sim.add_argument(
        "--http", metavar="HOST:PORT", help="also serve the page of the hall of consoles there"
    )
    sim.add_argument(
        "--cards",
        metavar="FILE.json",
        help='the deputies\' cards for the page: {"<address>": ["<name>", "<card UID hex>"]}',
    )

    command("import-deputies", cmd_import_deputies).add_argument(
        "file", metavar="FILE.csv", help='deputies CSV in the open-data structure "deputies"'
    )

    user = sub.add_parser("user", parents=[common], help="manage logins")
    user_sub = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = command("add", cmd_user_add, user_sub)
    add.add_argument("username")
    token = sub.add_parser("token", parents=[common], help="manage API tokens")
    token_sub = token.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = command("create", cmd_token_create, token_sub)
    create.add_argument("--label", help="a note saying whose token it is")
    command("list", cmd_token_list, token_sub)
    command("revoke", cmd_token_revoke, token_sub).add_argument(
        "id", type=int, metavar="ID", help="the token's id, as `voting token list` shows it"
    )
    for p in (add, create):
        p.add_argument("--role", required=True, choices=ROLES)
        p.add_argument("--deputy", type=int, metavar="ID", help="the deputy (role deputy only)")

    command("deputy-pin", cmd_deputy_pin).add_argument(
        "deputy", metavar="SEAT_OR_ID", help="the deputy's seat number, or id:N for their id"
    )

    journal = sub.add_parser("journal", parents=[common], help="check the journal")
    journal_sub = journal.add_subparsers(dest="action", required=True, metavar="ACTION")
    command("verify", cmd_journal_verify, journal_sub).add_argument(
        "--anchor",
        action="append",
        default=[],
        metavar="SEQ:HASH",
        help="a published anchor (shown on the public page, the archive pages and in the API at "
        "every vote and sitting close) that the journal must still match; may be given several "
        "times",
    )
    _add_record_commands(command)
    _add_export_command(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse has printed the usage and the problem (or --help)
        return stop.code if isinstance(stop.code, int) else 2
    args.config = getattr(args, "config", None)
    try:
        return args.func(args)
    except (UserError, ConfigError, DomainError, RosterImportError) as error:
        message = error.message if isinstance(error, DomainError) else str(error)
    except OSError as error:
        message = f"{error.filename}: {error.strerror}" if error.filename else str(error)
    except DBAPIError as error:
        message = f"the database failed: {_first_line(error)}"
    print(f"error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
