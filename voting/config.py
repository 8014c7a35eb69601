"""Configuration: config.toml read into validated, frozen dataclasses (standard library only)."""

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


@dataclass(frozen=True)
class CouncilConfig:
    """The council itself, as printed on protocols."""

    name: str = "Демонстраційна міська рада"
    edrpou: str = "00000000"
    katottg: str = "UA00000000000000000"
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
class Config:
    """The whole configuration, one attribute per config.toml section."""

    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    council: CouncilConfig = field(default_factory=CouncilConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)

    def database_url_resolved(self) -> str:
        """The database URL to connect to; see resolve_database_url."""
        return resolve_database_url(self)


SECTIONS: dict[str, type] = {
    "database": DatabaseConfig,
    "server": ServerConfig,
    "council": CouncilConfig,
    "rules": RulesConfig,
}
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
    sections = {}
    for section in data:
        if section not in SECTIONS:
            raise ConfigError(f"{section}: unknown section (known: {', '.join(SECTIONS)})")
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
    config = Config(**sections)
    _validate(config)
    return config


def _check_type(name: str, value: Any, expected: type) -> None:
    """Refuse a value of the wrong TOML type; a boolean is not an integer."""
    ok = isinstance(value, str) if expected is str else type(value) is expected
    if not ok:
        raise ConfigError(f"{name}: must be {_TYPE_NAMES[expected]}, got {value!r}")


def _validate(config: Config) -> None:
    """Check value ranges and enumerations; the first failing check names its key."""
    server, council, rules = config.server, config.council, config.rules
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


def _is_timezone(name: str) -> bool:
    """Whether zoneinfo knows the IANA time-zone name."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True
