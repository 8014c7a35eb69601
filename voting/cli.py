"""The `voting` command."""

from __future__ import annotations

import argparse
import sys

from voting.adapters.schema import upgrade
from voting.config import ConfigError, load_config
from voting.domain.errors import DomainError, NotFound
from voting.services import council
from voting.services.runtime import build_runtime
from voting.services.uow import SYSTEM


def cmd_init(args: argparse.Namespace) -> int:
    """Create or upgrade the database and the council from config.toml."""
    config = load_config(args.config)
    rt = build_runtime(config.database_url_resolved())
    upgrade(rt.engine)
    try:
        from voting.services.queries import council_info

        info = council_info(rt.uow())
        print(f"Database is up to date; council: {info['name']}")
    except NotFound:
        c = config.council
        council.create_council(rt.uow(), SYSTEM, {
            "name": c.name, "edrpou": c.edrpou, "katottg": c.katottg,
            "statutory_deputies": c.statutory_deputies, "head_votes": c.head_votes,
            **{k: getattr(config.rules, k) for k in (
                "quorum_counts_head", "quorum_numerator", "quorum_denominator", "default_rule",
                "revote_limit", "default_time_limit_seconds", "allow_change_choice",
                "registration_required_to_vote", "show_running_split")}})
        print(f"Database created; council: {c.name}")
    rt.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="voting", description="Council voting system")
    parser.add_argument("--config", help="path to config.toml")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help=cmd_init.__doc__).set_defaults(func=cmd_init)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, DomainError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
