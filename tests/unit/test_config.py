"""voting.config: defaults, file values, overrides, environment and validation errors."""

import dataclasses
from pathlib import Path

import pytest

from voting.config import (
    Config,
    ConfigError,
    CouncilConfig,
    DatabaseConfig,
    RulesConfig,
    ServerConfig,
    load_config,
    resolve_database_url,
)
from voting.domain.floor import AtZero, SpeechType, SpeechTypeRule

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """Each test starts in an empty folder with no VOTING_* configuration variables."""
    monkeypatch.delenv("VOTING_CONFIG", raising=False)
    monkeypatch.delenv("VOTING_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str, name: str = "settings.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_built_in_defaults_without_any_file():
    config = load_config()
    assert config == Config()
    assert config.database == DatabaseConfig(url="")
    assert config.server == ServerConfig("instance", "127.0.0.1", 5000, "uk", "Europe/Kyiv")
    assert config.council == CouncilConfig(
        name="Демонстраційна міська рада",
        edrpou="00000000",
        katottg="UA00000000000000000",
        statutory_deputies=42,
        head_votes=True,
    )
    assert config.rules == RulesConfig(
        quorum_counts_head=False,
        quorum_numerator=1,
        quorum_denominator=2,
        default_rule="majority_of_total",
        revote_limit=2,
        default_time_limit_seconds=0,
        allow_change_choice=False,
        registration_required_to_vote=True,
        show_running_split=False,
    )


def test_shipped_config_toml_equals_built_in_defaults():
    assert load_config(REPO_ROOT / "config.toml") == Config()


def test_shipped_config_toml_sets_every_key():
    import tomllib

    data = tomllib.loads((REPO_ROOT / "config.toml").read_text(encoding="utf-8"))
    for name, section in dataclasses.asdict(Config()).items():
        if name == "console_ports":  # no port by default: the file shows one in a comment
            assert name not in data
            continue
        assert set(data[name]) == set(section), name


def test_console_ports_map_addresses_to_seats_and_refuse_overlaps(tmp_path):
    config = load_config(
        write(
            tmp_path,
            '[[console_ports]]\nurl = "/dev/ttyUSB0"\ncount = 3\nfirst_seat = 10\n'
            '[[console_ports]]\nurl = "socket://127.0.0.1:7001"\nfirst_address = 5\ncount = 2\n',
        )
    )
    assert [p.seats() for p in config.console_ports] == [{1: 10, 2: 11, 3: 12}, {5: 1, 6: 2}]
    for bad, message in (
        (
            'url = "a"\ncount = 2\nfirst_seat = 2\n[[console_ports]]\nurl = "b"\ncount = 2\n',
            "seat 2 is also on port a",
        ),
        ('url = "a"\ncount = 97\n', "count: must be 1-96"),
        ('url = "a"\ncount = 1\nbaudrate = 115201\n', "baudrate: must be one of"),
        ("count = 1\n", "url: the serial port is missing"),
        ('url = "a"\ncount = 1\nparity = "E"\n', "parity: unknown key"),
    ):
        with pytest.raises(ConfigError, match=message):
            load_config(write(tmp_path, "[[console_ports]]\n" + bad))


def test_the_hall_plan_lists_rows_of_blocks_and_refuses_what_is_not_a_seat(tmp_path):
    config = load_config(write(tmp_path, '[hall_plan]\nrows = ["1-3 | 4", "8-6 | 9 - 10"]\n'))
    assert config.hall_plan.rows == (((1, 2, 3), (4,)), ((8, 7, 6), (9, 10)))
    assert config.hall_plan.as_lists() == [[[1, 2, 3], [4]], [[8, 7, 6], [9, 10]]]
    for bad, message in (
        ('rows = ["1-3", "3-5"]', "rows\\[1\\]: seat 3 is also in hall_plan.rows\\[0\\]"),
        ('rows = ["1-x"]', 'rows\\[0\\]: "1-x" is neither a seat number nor a range'),
        ('rows = ["1 |"]', 'rows\\[0\\]: "" is neither a seat number'),
        ('rows = ["0-2"]', "seat 0 is not 1-9999"),
        ("rows = [[1, 2]]", "must be an array of strings"),
        ('seats = ["1"]', "hall_plan.seats: unknown key"),
    ):
        with pytest.raises(ConfigError, match=message):
            load_config(write(tmp_path, "[hall_plan]\n" + bad + "\n"))


def test_a_councils_speech_types_and_floor_rules(tmp_path):
    config = load_config(
        write(
            tmp_path,
            '[floor]\nalternate_factions = true\nat_zero = "warn"\n'
            "[speech_types.speech]\nseconds = 420\nper_item_limit = 2\n",
        )
    )
    rules = config.floor_rules()
    assert rules.alternate_factions and rules.at_zero is AtZero.WARN
    assert rules.rule(SpeechType.SPEECH) == SpeechTypeRule(420, 2, False, 2)
    assert rules.rule(SpeechType.REPORT).seconds == 15 * 60  # the others keep their defaults
    assert rules.rule(SpeechType.POINT_OF_ORDER).interrupts


def test_config_is_frozen():
    config = load_config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.server.port = 1  # type: ignore[misc]


def test_file_values_load_and_missing_keys_keep_defaults(tmp_path):
    path = write(
        tmp_path,
        """
        [server]
        port = 8080
        locale = "en"
        timezone = "UTC"

        [council]
        name = "Київська міська рада"
        statutory_deputies = 120
        head_votes = false

        [rules]
        default_rule = "two_thirds_of_total"
        quorum_numerator = 2
        quorum_denominator = 3
        """,
    )
    config = load_config(str(path))
    assert config.server.port == 8080
    assert config.server.locale == "en"
    assert config.server.timezone == "UTC"
    assert config.server.host == "127.0.0.1"
    assert config.council.name == "Київська міська рада"
    assert config.council.statutory_deputies == 120
    assert config.council.head_votes is False
    assert config.rules.default_rule == "two_thirds_of_total"
    assert (config.rules.quorum_numerator, config.rules.quorum_denominator) == (2, 3)
    assert config.rules.revote_limit == 2
    assert config.database.url == ""


def test_config_toml_in_current_directory_is_found(tmp_path):
    write(tmp_path, "[server]\nport = 6000\n", name="config.toml")
    assert load_config().server.port == 6000


def test_voting_config_variable_names_the_file(tmp_path, monkeypatch):
    write(tmp_path, "[server]\nport = 6000\n", name="config.toml")
    other = write(tmp_path, "[server]\nport = 7000\n", name="other.toml")
    monkeypatch.setenv("VOTING_CONFIG", str(other))
    assert load_config().server.port == 7000


def test_explicit_path_beats_voting_config_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("VOTING_CONFIG", str(write(tmp_path, "[server]\nport = 7000\n", "a.toml")))
    assert load_config(write(tmp_path, "[server]\nport = 7001\n", "b.toml")).server.port == 7001


def test_overrides_merge_over_the_file(tmp_path):
    path = write(tmp_path, '[server]\nport = 8080\nlocale = "en"\n')
    config = load_config(
        path,
        overrides={"database": {"url": "sqlite://"}, "server": {"port": 9090}},
    )
    assert config.database.url == "sqlite://"
    assert config.server.port == 9090
    assert config.server.locale == "en"  # kept from the file
    assert config.server.host == "127.0.0.1"  # kept from the defaults


def test_environment_overrides_database_url(tmp_path, monkeypatch):
    path = write(tmp_path, '[database]\nurl = "sqlite:///from-file.sqlite3"\n')
    monkeypatch.setenv("VOTING_DATABASE_URL", "postgresql+psycopg://app@db:5432/council")
    config = load_config(path)
    assert config.database.url == "postgresql+psycopg://app@db:5432/council"
    assert config.database_url_resolved() == "postgresql+psycopg://app@db:5432/council"


def test_explicit_overrides_beat_the_environment(monkeypatch):
    monkeypatch.setenv("VOTING_DATABASE_URL", "postgresql+psycopg://app@db:5432/council")
    assert load_config(overrides={"database": {"url": "sqlite://"}}).database.url == "sqlite://"


def test_empty_environment_variable_is_ignored(monkeypatch):
    monkeypatch.setenv("VOTING_DATABASE_URL", "")
    assert load_config().database.url == ""


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[server]\nport = 0", "server.port"),
        ("[server]\nport = 65536", "server.port"),
        ('[server]\nport = "5000"', "server.port"),
        ("[server]\nport = 5000.0", "server.port"),
        ("[server]\nport = true", "server.port"),
        ('[server]\nhost = ""', "server.host"),
        ('[server]\ninstance_path = ""', "server.instance_path"),
        ('[server]\nlocale = "de"', "server.locale"),
        ('[server]\ntimezone = "Europe/Atlantis"', "server.timezone"),
        ('[server]\ntimezone = ""', "server.timezone"),
        ("[database]\nurl = 5", "database.url"),
        ('[council]\nname = " "', "council.name"),
        ('[council]\nedrpou = "1234"', "council.edrpou"),
        ('[council]\nkatottg = "00000000000000000"', "council.katottg"),
        ("[council]\nstatutory_deputies = 0", "council.statutory_deputies"),
        ("[council]\nstatutory_deputies = true", "council.statutory_deputies"),
        ('[council]\nhead_votes = "yes"', "council.head_votes"),
        ("[council]\nhead_votes = 1", "council.head_votes"),
        ("[rules]\nquorum_denominator = 0", "rules.quorum_denominator"),
        ("[rules]\nquorum_numerator = 0", "rules.quorum_numerator"),
        ("[rules]\nquorum_numerator = -1", "rules.quorum_numerator"),
        ("[rules]\nquorum_numerator = 3\nquorum_denominator = 2", "rules.quorum_numerator"),
        ('[rules]\ndefault_rule = "unanimity"', "rules.default_rule"),
        ("[rules]\nrevote_limit = -1", "rules.revote_limit"),
        ("[rules]\ndefault_time_limit_seconds = -5", "rules.default_time_limit_seconds"),
        ("[rules]\nshow_running_split = 0", "rules.show_running_split"),
        ('[floor]\nat_zero = "explode"', "floor.at_zero"),
        ('[floor]\nmicrophone_mode = "magic"', "floor.microphone_mode"),
        ("[floor]\nmax_open_microphones = 0", "floor.max_open_microphones"),
        ("[floor]\nmax_open_microphones = 26", "floor.max_open_microphones"),
        ("[floor]\nwarning_seconds = -1", "floor.warning_seconds"),
        ("[floor]\ngrace_seconds = 601", "floor.grace_seconds"),
        ("[floor]\nfaction_seconds_per_item = -60", "floor.faction_seconds_per_item"),
        ("[floor]\nrecording_command = 'rec \"unclosed'", "floor.recording_command"),
        ("[floor]\nalternate_factions = 1", "floor.alternate_factions"),
        ("[speech_types.song]\nseconds = 60", "speech_types.song"),
        ("[speech_types.report]\nseconds = 0", "speech_types.report.seconds"),
        ("[speech_types.report]\nseconds = 900.5", "speech_types.report.seconds"),
        ("[speech_types.reply]\nper_item_limit = -1", "speech_types.reply.per_item_limit"),
        ("[speech_types.reply]\npriority = 10", "speech_types.reply.priority"),
        ("[speech_types.reply]\ncolour = 1", "speech_types.reply.colour"),
        ("speech_types = 5", "speech_types"),
        ('[server]\nallowed_origins = "tv.example.ua"', "server.allowed_origins"),
        ('[server]\nallowed_origins = "https://tv.example.ua/page"', "server.allowed_origins"),
        ("[server]\ntrusted_proxies = 6", "server.trusted_proxies"),
        ("[server]\ntrusted_proxies = -1", "server.trusted_proxies"),
        ("[sign_in]\npin_attempts = 0", "sign_in.pin_attempts"),
        ("[sign_in]\npin_lock_minutes = 1441", "sign_in.pin_lock_minutes"),
        (
            "[sign_in]\nattempts_per_address_per_minute = 0",
            "sign_in.attempts_per_address_per_minute",
        ),
        ('[sign_in]\nattempts_per_name_per_minute = "10"', "sign_in.attempts_per_name_per_minute"),
    ],
)
def test_invalid_values_are_refused_naming_the_key(tmp_path, toml, key):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, toml))
    assert str(caught.value).startswith(f"{key}: ")


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"server": {"port": -1}}, "server.port"),
        ({"rules": {"quorum_denominator": False}}, "rules.quorum_denominator"),
        ({"council": {"statutory_deputies": 42.0}}, "council.statutory_deputies"),
    ],
)
def test_invalid_overrides_are_refused_naming_the_key(overrides, key):
    with pytest.raises(ConfigError) as caught:
        load_config(overrides=overrides)
    assert str(caught.value).startswith(f"{key}: ")


def test_a_quorum_of_more_than_everyone_is_refused():
    """ "More than 3/3" could never be reached: no sitting would ever be competent."""
    with pytest.raises(ConfigError, match="^rules.quorum_numerator: "):
        load_config(overrides={"rules": {"quorum_numerator": 3, "quorum_denominator": 3}})
    rules = load_config(overrides={"rules": {"quorum_numerator": 2, "quorum_denominator": 3}}).rules
    assert (rules.quorum_numerator, rules.quorum_denominator) == (2, 3)


def test_a_default_time_limit_over_an_hour_is_refused():
    with pytest.raises(ConfigError, match="^rules.default_time_limit_seconds: "):
        load_config(overrides={"rules": {"default_time_limit_seconds": 7200}})


def test_unknown_key_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"^rules\.quorum_percent: unknown key"):
        load_config(write(tmp_path, "[rules]\nquorum_percent = 50\n"))


def test_unknown_section_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"^logging: unknown section"):
        load_config(write(tmp_path, '[logging]\nlevel = "debug"\n'))


def test_unknown_key_in_overrides_is_refused():
    with pytest.raises(ConfigError, match=r"^database\.pool: unknown key"):
        load_config(overrides={"database": {"pool": 5}})


def test_section_that_is_not_a_table_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"^server: must be a table"):
        load_config(write(tmp_path, 'server = "localhost"\n'))


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.toml")


def test_missing_file_named_by_voting_config_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("VOTING_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_config()


def test_invalid_toml_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[server\nport = 1\n"))


def test_empty_url_resolves_to_sqlite_in_the_instance_folder(tmp_path):
    config = load_config()
    expected = f"sqlite:///{(tmp_path / 'instance' / 'voting.sqlite3').as_posix()}"
    assert resolve_database_url(config) == expected
    assert config.database_url_resolved() == expected
    assert expected.startswith("sqlite:////")  # four slashes: an absolute path


def test_absolute_instance_path_is_kept(tmp_path):
    instance = tmp_path / "elsewhere"
    config = load_config(overrides={"server": {"instance_path": str(instance)}})
    assert resolve_database_url(config) == f"sqlite:///{(instance / 'voting.sqlite3').as_posix()}"


def test_configured_url_is_returned_unchanged():
    url = "postgresql+psycopg://user@host:5432/db"
    assert resolve_database_url(load_config(overrides={"database": {"url": url}})) == url


# --- [server] message_queue and message_channel: several server processes over Redis ----------


@pytest.fixture(autouse=True)
def no_message_queue_variable(monkeypatch):
    monkeypatch.delenv("VOTING_MESSAGE_QUEUE_URL", raising=False)


def test_one_process_without_redis_by_default():
    server = load_config().server
    assert (server.message_queue, server.message_channel) == ("", "council-voting")


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "redis://localhost",
        "rediss://council:pass@redis.example.org:6380/2",
        "redis://[::1]:6379/15",
    ],
)
def test_a_redis_url_and_channel_are_read_from_the_file(tmp_path, url):
    config = load_config(
        write(tmp_path, f'[server]\nmessage_queue = "{url}"\nmessage_channel = "kyiv-council"\n')
    )
    assert (config.server.message_queue, config.server.message_channel) == (url, "kyiv-council")


def test_environment_overrides_the_message_queue(tmp_path, monkeypatch):
    path = write(tmp_path, '[server]\nmessage_queue = "redis://file-host:6379/0"\n')
    monkeypatch.setenv("VOTING_MESSAGE_QUEUE_URL", "redis://:secret@env-host:6379/1")
    assert load_config(path).server.message_queue == "redis://:secret@env-host:6379/1"
    assert load_config(path, overrides={"server": {"message_queue": ""}}).server.message_queue == ""


def test_empty_message_queue_variable_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("VOTING_MESSAGE_QUEUE_URL", "")
    path = write(tmp_path, '[server]\nmessage_queue = "redis://file-host:6379/0"\n')
    assert load_config(path).server.message_queue == "redis://file-host:6379/0"


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[server]\nmessage_queue = "http://127.0.0.1:6379/0"', "server.message_queue"),
        ('[server]\nmessage_queue = "amqp://guest@127.0.0.1//"', "server.message_queue"),
        ('[server]\nmessage_queue = "redis://"', "server.message_queue"),
        ('[server]\nmessage_queue = "127.0.0.1:6379"', "server.message_queue"),
        ('[server]\nmessage_queue = "redis://127.0.0.1:99999/0"', "server.message_queue"),
        ('[server]\nmessage_queue = "redis://127.0.0.1:0/0"', "server.message_queue"),
        ('[server]\nmessage_queue = "redis://127.0.0.1:port/0"', "server.message_queue"),
        ('[server]\nmessage_queue = "redis://127.0.0.1:6379/zero"', "server.message_queue"),
        ('[server]\nmessage_queue = "redis://127.0.0.1:6379/0 "', "server.message_queue"),
        ('[server]\nmessage_queue = "redis://127.0.0.1\\n:6379/0"', "server.message_queue"),
        ("[server]\nmessage_queue = 6379", "server.message_queue"),
        ('[server]\nmessage_channel = ""', "server.message_channel"),
        ('[server]\nmessage_channel = "two words"', "server.message_channel"),
        ('[server]\nmessage_channel = "рада"', "server.message_channel"),
        (f'[server]\nmessage_channel = "{"c" * 101}"', "server.message_channel"),
        ("[server]\nmessage_channel = true", "server.message_channel"),
    ],
)
def test_invalid_message_queue_settings_are_refused_naming_the_key(tmp_path, toml, key):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, toml))
    assert str(caught.value).startswith(f"{key}: ")


def test_a_refused_message_queue_url_is_shown_without_its_password(monkeypatch):
    monkeypatch.setenv("VOTING_MESSAGE_QUEUE_URL", "http://council:s3cret@redis.example:6379/0")
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert "s3cret" not in str(caught.value)
    assert "http://council:***@redis.example:6379/0" in str(caught.value)
