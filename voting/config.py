"""Configuration: config.toml read into validated, frozen dataclasses (standard library only)."""

import dataclasses
import os
import re
import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voting.domain.floor import (
    DEFAULT_SPEECH_TYPES,
    MAX_OPEN_MICROPHONES,
    MAX_SPEECH_SECONDS,
    AtZero,
    FloorRules,
    MicrophoneMode,
    SpeechType,
    SpeechTypeRule,
)

ENV_CONFIG = "VOTING_CONFIG"
ENV_DATABASE_URL = "VOTING_DATABASE_URL"
ENV_MESSAGE_QUEUE_URL = "VOTING_MESSAGE_QUEUE_URL"
MESSAGE_QUEUE_SCHEMES = ("redis", "rediss")
SQLITE_FILENAME = "voting.sqlite3"
LOCALES = ("uk", "en")
ADOPTION_RULES = (
    "majority_of_total",
    "two_thirds_of_total",
    "majority_of_registered",
    "majority_of_voting",
)


class ConfigError(ValueError):
    """A configuration file or value that cannot be used; the message names section.key."""


@dataclass(frozen=True)
class DatabaseConfig:
    """Where the data lives; an empty url means SQLite in the instance folder."""

    url: str = ""


@dataclass(frozen=True)
class ServerConfig:
    """Web server address, local state folder, language, time zone, and the Redis server that
    carries live messages between several server processes (empty: one process, no Redis)."""

    instance_path: str = "instance"
    host: str = "127.0.0.1"
    port: int = 5000
    locale: str = "uk"
    timezone: str = "Europe/Kyiv"
    message_queue: str = ""
    message_channel: str = "council-voting"
    #: Pages of other sites that may open the live socket, "scheme://host[:port]" separated by
    #: spaces (a broadcaster's graphics machine); this server's own pages always may.
    allowed_origins: str = ""
    #: Reverse proxies in front of the server whose X-Forwarded-For/-Proto/-Host are believed
    #: (0: none; the connection's own address is the source).
    trusted_proxies: int = 0

    def origins(self) -> tuple[str, ...]:
        return tuple(self.allowed_origins.split())


@dataclass(frozen=True)
class SignInConfig:
    """[sign_in]: how many attempts one address may make, and how wrong PINs lock a card there."""

    attempts_per_address_per_minute: int = 30
    attempts_per_name_per_minute: int = 10
    pin_attempts: int = 5
    pin_lock_minutes: int = 5


@dataclass(frozen=True)
class CouncilConfig:
    """The council itself, as printed on protocols."""

    name: str = "Демонстраційна міська рада"
    edrpou: str = "00000000"
    katottg: str = "UA00000000000000000"
    #: Where the plenary sittings are usually held, as the protocol states it ("" for none).
    place: str = ""
    statutory_deputies: int = 42
    head_votes: bool = True


@dataclass(frozen=True)
class RulesConfig:
    """Quorum, adoption and voting-procedure rules."""

    quorum_counts_head: bool = False
    quorum_numerator: int = 1
    quorum_denominator: int = 2
    default_rule: str = "majority_of_total"
    revote_limit: int = 2
    default_time_limit_seconds: int = 0
    allow_change_choice: bool = False
    registration_required_to_vote: bool = True
    show_running_split: bool = False


@dataclass(frozen=True)
class FloorConfig:
    """The floor: who may ask for it, the order of speakers, the speaking clock, the
    microphones and the recording of speeches (the speech types are [speech_types.<type>])."""

    registration_required: bool = True
    late_points_of_order: bool = True
    first_timers_first: bool = False
    alternate_factions: bool = False
    warning_seconds: int = 30
    at_zero: str = "mute"
    grace_seconds: int = 10
    microphone_mode: str = "automatic"
    max_open_microphones: int = 1
    faction_seconds_per_item: int = 0
    recording_command: str = ""
    recording_folder: str = "recordings"


@dataclass(frozen=True)
class SpeechTypeConfig:
    """One speech type: its time, priority class (0 first), whether it may interrupt the current
    speech, and how many times one deputy may use it per agenda item (0: no limit)."""

    seconds: int
    priority: int
    interrupts: bool
    per_item_limit: int


@dataclass(frozen=True)
class JournalConfig:
    """[journal]: where the key that authenticates the journal's entries is kept."""

    key_file: str = "journal.key"
    key_env: str = "VOTING_JOURNAL_KEY"

    def key_path(self, instance_path: str) -> Path:
        """The key file: absolute as given, else inside the instance folder."""
        given = Path(self.key_file).expanduser()
        return given if given.is_absolute() else Path(instance_path).expanduser() / given

    def key(self, instance_path: str) -> bytes | None:
        """The key: the environment variable `key_env` when it is set, else the file; None
        when neither holds one (`voting init` creates the file)."""
        from_env = os.environ.get(self.key_env, "").strip() if self.key_env else ""
        if from_env:
            return from_env.encode("utf-8")
        held = read_secret(self.key_path(instance_path))
        return None if held is None else held.encode("utf-8")


@dataclass(frozen=True)
class ConsolesConfig:
    """The seat consoles: how the gateway (`voting consoles`) reaches the server and the keys,
    and what a console may do (the bus ports are [[console_ports]])."""

    server_url: str = ""
    secret_file: str = "console-gateway.secret"
    keys_file: str = "console-keys.toml"
    reply_timeout_ms: int = 20
    register_on_card: bool = True
    deregister_on_card_removal: bool = False
    hold_to_vote_ms: int = 0

    def path(self, name: str, instance_path: str) -> Path:
        """A file of this section: absolute as given, else inside the instance folder."""
        given = Path(name).expanduser()
        return given if given.is_absolute() else Path(instance_path).expanduser() / given


@dataclass(frozen=True)
class ConsolePortConfig:
    """One RS-485 segment: its serial port (a pyserial URL) and which console address is which
    seat: addresses first_address .. first_address+count-1 are seats first_seat, first_seat+1..."""

    url: str
    baudrate: int = 115200
    rs485: bool = False
    low_latency: bool = True
    first_address: int = 1
    first_seat: int = 1
    count: int = 0

    def seats(self) -> dict[int, int]:
        """Console address -> seat number."""
        return {self.first_address + i: self.first_seat + i for i in range(self.count)}


@dataclass(frozen=True)
class HallPlanConfig:
    """The seats as they stand in the hall, for the seat map on the hall display: the rows,
    front first, each a tuple of blocks (the aisles between them), each the seat numbers in it
    from left to right. No rows: the seats in number order."""

    rows: tuple[tuple[tuple[int, ...], ...], ...] = ()

    def as_lists(self) -> list[list[list[int]]]:
        return [[list(block) for block in row] for row in self.rows]


def read_secret(path: Path) -> str | None:
    """A secret kept in a file (the console gateway's, the journal's key), or None when the
    file is missing or empty."""
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return secret or None


#: Consoles on one RS-485 segment at most (1/8 unit-load transceivers: docs/console-protocol.md).
MAX_CONSOLES_PER_PORT = 96
BAUD_RATES = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)


def _default_speech_types() -> dict[str, SpeechTypeConfig]:
    return {
        kind.value: SpeechTypeConfig(r.seconds, r.priority, r.interrupts, r.per_item_limit)
        for kind, r in DEFAULT_SPEECH_TYPES.items()
    }


@dataclass(frozen=True)
class Config:
    """The whole configuration, one attribute per config.toml section."""

    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    council: CouncilConfig = field(default_factory=CouncilConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)
    floor: FloorConfig = field(default_factory=FloorConfig)
    speech_types: dict[str, SpeechTypeConfig] = field(default_factory=_default_speech_types)
    consoles: ConsolesConfig = field(default_factory=ConsolesConfig)
    journal: JournalConfig = field(default_factory=JournalConfig)
    sign_in: SignInConfig = field(default_factory=SignInConfig)
    console_ports: tuple[ConsolePortConfig, ...] = ()
    hall_plan: HallPlanConfig = field(default_factory=HallPlanConfig)

    def database_url_resolved(self) -> str:
        """The database URL to connect to; see resolve_database_url."""
        return resolve_database_url(self)

    def floor_rules(self) -> FloorRules:
        """The floor's settings as the domain's rules."""
        floor = self.floor
        return FloorRules(
            types={
                SpeechType(name): SpeechTypeRule(
                    t.seconds, t.priority, t.interrupts, t.per_item_limit
                )
                for name, t in self.speech_types.items()
            },
            registration_required=floor.registration_required,
            late_points_of_order=floor.late_points_of_order,
            first_timers_first=floor.first_timers_first,
            alternate_factions=floor.alternate_factions,
            warning_seconds=floor.warning_seconds,
            at_zero=AtZero(floor.at_zero),
            grace_seconds=floor.grace_seconds,
            microphone_mode=MicrophoneMode(floor.microphone_mode),
            max_open_microphones=floor.max_open_microphones,
            faction_seconds_per_item=floor.faction_seconds_per_item,
        )


SECTIONS: dict[str, type] = {
    "database": DatabaseConfig,
    "server": ServerConfig,
    "council": CouncilConfig,
    "rules": RulesConfig,
    "floor": FloorConfig,
    "consoles": ConsolesConfig,
    "journal": JournalConfig,
    "sign_in": SignInConfig,
}
SPEECH_TYPES = "speech_types"
CONSOLE_PORTS = "console_ports"
HALL_PLAN = "hall_plan"
#: A seat number in a hall plan's row ("12"), or a range of them, left to right ("1-8", "8-1").
_SEATS = re.compile(r"^\s*(\d{1,4})\s*(?:-\s*(\d{1,4})\s*)?$")
_TYPE_NAMES = {bool: "a boolean (true/false)", int: "an integer", str: "a string"}


def load_config(
    path: str | os.PathLike[str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Config:
    """Read, merge (file < VOTING_DATABASE_URL and VOTING_MESSAGE_QUEUE_URL < overrides) and
    validate the configuration."""
    data = _read_file(_find_file(path))
    env_url = os.environ.get(ENV_DATABASE_URL)
    if env_url:
        data = _merge(data, {"database": {"url": env_url}}, "")
    env_queue = os.environ.get(ENV_MESSAGE_QUEUE_URL)
    if env_queue:
        data = _merge(data, {"server": {"message_queue": env_queue}}, "")
    if overrides:
        data = _merge(data, overrides, "")
    return _build(data)


def database_config(url: str) -> Config:
    """The built-in defaults with the database at `url` (the demo, tests, benchmarks)."""
    return Config(database=DatabaseConfig(url=url))


def resolve_database_url(config: Config) -> str:
    """The configured URL, or sqlite:///<absolute instance_path>/voting.sqlite3 when it is empty."""
    if config.database.url:
        return config.database.url
    instance = Path(config.server.instance_path).expanduser().absolute()
    return f"sqlite:///{(instance / SQLITE_FILENAME).as_posix()}"


def shown_queue_url(url: str) -> str:
    """The message-queue URL with any password replaced by ***, fit for messages and logs."""
    return re.sub(r"(//[^/@]*:)[^/@]*@", r"\1***@", url)


def _find_file(path: str | os.PathLike[str] | None) -> Path | None:
    """The file to read: the argument, else $VOTING_CONFIG, else ./config.toml if present."""
    if path is not None:
        return Path(path)
    from_env = os.environ.get(ENV_CONFIG)
    if from_env:
        return Path(from_env)
    default = Path("config.toml")
    return default if default.is_file() else None


def _read_file(path: Path | None) -> dict[str, Any]:
    """Parse the TOML file, or return nothing for built-in defaults."""
    if path is None:
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"configuration file {path} cannot be read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"configuration file {path} is not valid TOML: {error}") from None


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Deep-merge extra over base; tables merge key by key, other values replace."""
    merged = dict(base)
    for key, value in extra.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            current = merged.get(key, {})
            if not isinstance(current, Mapping):
                raise ConfigError(f"{name}: must be a table, got {type(current).__name__}")
            merged[key] = _merge(current, value, f"{name}.")
        else:
            merged[key] = value
    return merged


def _build(data: Mapping[str, Any]) -> Config:
    """Turn merged raw data into a Config, checking names and types, then values."""
    sections: dict[str, Any] = {}
    for section in data:
        if section not in SECTIONS and section not in (SPEECH_TYPES, CONSOLE_PORTS, HALL_PLAN):
            known = ", ".join([*SECTIONS, SPEECH_TYPES, CONSOLE_PORTS, HALL_PLAN])
            raise ConfigError(f"{section}: unknown section (known: {known})")
    for section, cls in SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, Mapping):
            raise ConfigError(f"{section}: must be a table, got {type(table).__name__}")
        types = get_type_hints(cls)
        for key, value in table.items():
            if key not in types:
                raise ConfigError(f"{section}.{key}: unknown key (known: {', '.join(types)})")
            _check_type(f"{section}.{key}", value, types[key])
        sections[section] = cls(**table)
    sections[SPEECH_TYPES] = _speech_types(data.get(SPEECH_TYPES, {}))
    sections[CONSOLE_PORTS] = _console_ports(data.get(CONSOLE_PORTS, []))
    sections[HALL_PLAN] = _hall_plan(data.get(HALL_PLAN, {}))
    config = Config(**sections)
    _validate(config)
    return config


def _speech_types(data: object) -> dict[str, SpeechTypeConfig]:
    """[speech_types.<type>] tables over the defaults: each key given replaces that default."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{SPEECH_TYPES}: must be a table, got {type(data).__name__}")
    types = _default_speech_types()
    known_types = ", ".join(types)
    fields = get_type_hints(SpeechTypeConfig)
    for kind, table in data.items():
        where = f"{SPEECH_TYPES}.{kind}"
        if kind not in types:
            raise ConfigError(f"{where}: unknown speech type (known: {known_types})")
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where}: must be a table, got {type(table).__name__}")
        for key, value in table.items():
            if key not in fields:
                raise ConfigError(f"{where}.{key}: unknown key (known: {', '.join(fields)})")
            _check_type(f"{where}.{key}", value, fields[key])
        types[kind] = dataclasses.replace(types[kind], **table)
        checked = types[kind]
        for ok, key, problem, value in (
            (
                1 <= checked.seconds <= MAX_SPEECH_SECONDS,
                "seconds",
                f"must be 1-{MAX_SPEECH_SECONDS}",
                checked.seconds,
            ),
            (0 <= checked.priority <= 9, "priority", "must be 0-9", checked.priority),
            (
                0 <= checked.per_item_limit <= 100,
                "per_item_limit",
                "must be 0 (no limit) to 100",
                checked.per_item_limit,
            ),
        ):
            if not ok:
                raise ConfigError(f"{where}.{key}: {problem}, got {value!r}")
    return types


def _hall_plan(data: object) -> HallPlanConfig:
    """[hall_plan] rows = ["1-8 | 9-16", ...]: each row's blocks between "|", each block seat
    numbers "first-last" or one seat; no seat twice."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{HALL_PLAN}: must be a table, got {type(data).__name__}")
    for key in data:
        if key != "rows":
            raise ConfigError(f"{HALL_PLAN}.{key}: unknown key (known: rows)")
    given = data.get("rows", [])
    if not isinstance(given, list) or not all(isinstance(row, str) for row in given):
        raise ConfigError(f'{HALL_PLAN}.rows: must be an array of strings such as "1-8 | 9-16"')
    rows: list[tuple[tuple[int, ...], ...]] = []
    placed: dict[int, str] = {}
    for number, row in enumerate(given):
        where = f"{HALL_PLAN}.rows[{number}]"
        blocks: list[tuple[int, ...]] = []
        for part in row.split("|"):
            match = _SEATS.match(part)
            if match is None:
                raise ConfigError(
                    f'{where}: "{part.strip()}" is neither a seat number nor a range first-last'
                )
            first = int(match.group(1))
            last = int(match.group(2) or first)
            step = 1 if last >= first else -1
            block = tuple(range(first, last + step, step))
            for seat in block:
                if not 1 <= seat <= 9999:
                    raise ConfigError(f"{where}: seat {seat} is not 1-9999")
                if seat in placed:
                    raise ConfigError(f"{where}: seat {seat} is also in {placed[seat]}")
                placed[seat] = where
            blocks.append(block)
        rows.append(tuple(blocks))
    return HallPlanConfig(tuple(rows))


def _console_ports(data: object) -> tuple[ConsolePortConfig, ...]:
    """[[console_ports]]: each table one serial port; no seat and no port twice."""
    if not isinstance(data, list):
        raise ConfigError(f"{CONSOLE_PORTS}: must be an array of tables ([[{CONSOLE_PORTS}]])")
    fields = get_type_hints(ConsolePortConfig)
    ports: list[ConsolePortConfig] = []
    seats: dict[int, str] = {}
    for index, table in enumerate(data):
        where = f"{CONSOLE_PORTS}[{index}]"
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where}: must be a table, got {type(table).__name__}")
        for key, value in table.items():
            if key not in fields:
                raise ConfigError(f"{where}.{key}: unknown key (known: {', '.join(fields)})")
            _check_type(f"{where}.{key}", value, fields[key])
        if "url" not in table:
            raise ConfigError(f"{where}.url: the serial port is missing")
        port = ConsolePortConfig(**table)
        last = port.first_address + port.count - 1
        for ok, key, problem, value in (
            (port.url.strip() != "", "url", "must not be empty", port.url),
            (
                port.baudrate in BAUD_RATES,
                "baudrate",
                f"must be one of {BAUD_RATES}",
                port.baudrate,
            ),
            (
                1 <= port.count <= MAX_CONSOLES_PER_PORT,
                "count",
                f"must be 1-{MAX_CONSOLES_PER_PORT} consoles on one segment",
                port.count,
            ),
            (
                1 <= port.first_address and last <= 0xFFFE,
                "first_address",
                "must leave every address within 1-65534",
                port.first_address,
            ),
            (1 <= port.first_seat <= 9999 - port.count + 1, "first_seat", "must be 1-9999", 0),
            (all(p.url != port.url for p in ports), "url", "names a port twice", port.url),
        ):
            if not ok:
                raise ConfigError(f"{where}.{key}: {problem}, got {value!r}")
        for seat in port.seats().values():
            if seat in seats:
                raise ConfigError(f"{where}: seat {seat} is also on port {seats[seat]}")
            seats[seat] = port.url
        ports.append(port)
    return tuple(ports)


def _is_origin(text: str) -> bool:
    """ "http(s)://host[:port]": what a browser sends as a page's Origin."""
    return (
        re.fullmatch(
            r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?", text
        )
        is not None
    )


def _check_type(name: str, value: Any, expected: type) -> None:
    """Refuse a value of the wrong TOML type; a boolean is not an integer."""
    ok = isinstance(value, str) if expected is str else type(value) is expected
    if not ok:
        raise ConfigError(f"{name}: must be {_TYPE_NAMES[expected]}, got {value!r}")


def _validate(config: Config) -> None:
    """Check value ranges and enumerations; the first failing check names its key."""
    server, council, rules, floor = config.server, config.council, config.rules, config.floor
    fraction = f"{rules.quorum_numerator}/{rules.quorum_denominator}"
    checks = [
        (server.instance_path.strip() != "", "server.instance_path", "must not be empty", ""),
        (server.host.strip() != "", "server.host", "must not be empty", server.host),
        (1 <= server.port <= 65535, "server.port", "must be 1-65535", server.port),
        (server.locale in LOCALES, "server.locale", f"must be one of {LOCALES}", server.locale),
        (_is_timezone(server.timezone), "server.timezone", "unknown time zone", server.timezone),
        (
            server.message_queue == "" or _is_redis_url(server.message_queue),
            "server.message_queue",
            'must be empty or a Redis URL "redis://host:port/db" (or "rediss://" for TLS)',
            shown_queue_url(server.message_queue),
        ),
        (
            re.fullmatch(r"[A-Za-z0-9_.:-]{1,100}", server.message_channel) is not None,
            "server.message_channel",
            "must be 1-100 letters, digits, '_', '.', ':' or '-'",
            server.message_channel,
        ),
        (
            all(_is_origin(o) for o in server.origins()),
            "server.allowed_origins",
            'must be origins "http(s)://host[:port]" separated by spaces',
            server.allowed_origins,
        ),
        (
            0 <= server.trusted_proxies <= 5,
            "server.trusted_proxies",
            "must be 0-5",
            server.trusted_proxies,
        ),
        *(
            (
                1 <= getattr(config.sign_in, key) <= top,
                f"sign_in.{key}",
                f"must be 1-{top}",
                getattr(config.sign_in, key),
            )
            for key, top in (
                ("attempts_per_address_per_minute", 10_000),
                ("attempts_per_name_per_minute", 1000),
                ("pin_attempts", 100),
                ("pin_lock_minutes", 24 * 60),
            )
        ),
        (council.name.strip() != "", "council.name", "must not be empty", council.name),
        (
            re.fullmatch(r"[0-9]{8}", council.edrpou) is not None,
            "council.edrpou",
            "must be 8 digits",
            council.edrpou,
        ),
        (
            re.fullmatch(r"UA[0-9]{17}", council.katottg) is not None,
            "council.katottg",
            'must be "UA" and 17 digits',
            council.katottg,
        ),
        (
            council.statutory_deputies >= 1,
            "council.statutory_deputies",
            "must be at least 1",
            council.statutory_deputies,
        ),
        (
            rules.quorum_denominator >= 1,
            "rules.quorum_denominator",
            "must be at least 1",
            rules.quorum_denominator,
        ),
        (
            0 < rules.quorum_numerator < rules.quorum_denominator,
            "rules.quorum_numerator",
            "quorum_numerator/quorum_denominator must be greater than 0 and less than 1 "
            '(the quorum is "more than" that fraction)',
            fraction,
        ),
        (
            rules.default_rule in ADOPTION_RULES,
            "rules.default_rule",
            f"must be one of {ADOPTION_RULES}",
            rules.default_rule,
        ),
        (rules.revote_limit >= 0, "rules.revote_limit", "must not be negative", rules.revote_limit),
        (
            0 <= rules.default_time_limit_seconds <= 3600,
            "rules.default_time_limit_seconds",
            "must be 0 (no limit) to 3600 seconds",
            rules.default_time_limit_seconds,
        ),
        (
            0 <= floor.warning_seconds <= 600,
            "floor.warning_seconds",
            "must be 0-600",
            floor.warning_seconds,
        ),
        (
            floor.at_zero in tuple(AtZero),
            "floor.at_zero",
            f"must be one of {tuple(m.value for m in AtZero)}",
            floor.at_zero,
        ),
        (
            0 <= floor.grace_seconds <= 600,
            "floor.grace_seconds",
            "must be 0-600",
            floor.grace_seconds,
        ),
        (
            floor.microphone_mode in tuple(MicrophoneMode),
            "floor.microphone_mode",
            f"must be one of {tuple(m.value for m in MicrophoneMode)}",
            floor.microphone_mode,
        ),
        (
            1 <= floor.max_open_microphones <= MAX_OPEN_MICROPHONES,
            "floor.max_open_microphones",
            f"must be 1-{MAX_OPEN_MICROPHONES} (the chair's is not counted)",
            floor.max_open_microphones,
        ),
        (
            0 <= floor.faction_seconds_per_item <= 24 * 3600,
            "floor.faction_seconds_per_item",
            "must be 0 (no budget) to 86400 seconds",
            floor.faction_seconds_per_item,
        ),
        (
            _is_command(floor.recording_command),
            "floor.recording_command",
            "must be empty or a command line (quotes closed)",
            floor.recording_command,
        ),
        (
            floor.recording_folder.strip() != "",
            "floor.recording_folder",
            "must not be empty",
            floor.recording_folder,
        ),
    ]
    consoles = config.consoles
    checks += [
        (
            consoles.server_url == "" or urlsplit(consoles.server_url).scheme in ("http", "https"),
            "consoles.server_url",
            'must be empty or an "http://host:port" URL',
            consoles.server_url,
        ),
        (consoles.secret_file.strip() != "", "consoles.secret_file", "must not be empty", ""),
        (config.journal.key_file.strip() != "", "journal.key_file", "must not be empty", ""),
        (consoles.keys_file.strip() != "", "consoles.keys_file", "must not be empty", ""),
        (
            1 <= consoles.reply_timeout_ms <= 1000,
            "consoles.reply_timeout_ms",
            "must be 1-1000",
            consoles.reply_timeout_ms,
        ),
        (
            0 <= consoles.hold_to_vote_ms <= 5000,
            "consoles.hold_to_vote_ms",
            "must be 0 (off) to 5000",
            consoles.hold_to_vote_ms,
        ),
    ]
    for ok, name, problem, value in checks:
        if not ok:
            raise ConfigError(f"{name}: {problem}, got {value!r}")


def _is_redis_url(url: str) -> bool:
    """Whether `url` names a Redis server: redis:// or rediss://, a host, a valid port if any,
    a database number if any, and no spaces or control characters."""
    if not url.isprintable() or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme in MESSAGE_QUEUE_SCHEMES
        and bool(parts.hostname)
        and (port is None or 1 <= port <= 65535)
        and re.fullmatch(r"(/[0-9]{0,5})?", parts.path) is not None
        and not parts.fragment
    )


def _is_command(line: str) -> bool:
    """Whether `line` is empty or splits into a command and its arguments (shell quoting)."""
    try:
        return line.strip() == "" or bool(shlex.split(line))
    except ValueError:
        return False


def _is_timezone(name: str) -> bool:
    """Whether zoneinfo knows the IANA time-zone name."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True
