"""Bearer tokens can be listed and revoked from outside the code: over the API (secretary only)
and with `voting token list` / `voting token revoke ID`; a revoked token then gets 401."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from voting.bootstrap import Runtime
from voting.cli import main
from voting.domain.actors import SYSTEM
from voting.domain.errors import PermissionDenied
from voting.services import auth
from voting.services.commands import CreateToken, SignIn
from voting.web import create_app

API = "/api/v1"


@pytest.fixture
def client(hall, runtime: Runtime, db_url: str) -> FlaskClient:  # type: ignore[no-untyped-def]
    app = create_app(runtime=runtime, overrides={"database": {"url": db_url}})
    app.config["TESTING"] = True
    return app.test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issue(
    runtime: Runtime, role: str, deputy_id: int | None = None, label: str | None = None
) -> tuple[int, str]:
    """A new token and its id (the newest in the list)."""
    token = auth.create_token(
        runtime.uow(),
        SYSTEM,
        CreateToken.parse({"role": role, "deputy_id": deputy_id, "label": label}),
    )
    return auth.list_tokens(runtime.uow(), SYSTEM)[-1]["id"], token  # type: ignore[return-value]


def test_the_secretary_lists_tokens_without_the_secrets(
    hall, runtime: Runtime, client: FlaskClient
) -> None:
    _, secretary = issue(runtime, "secretary", label="Секретар ради")
    _, deputy = issue(runtime, "deputy", hall.deputies[0])

    response = client.get(f"{API}/tokens", headers=bearer(secretary))
    assert response.status_code == 200, response.get_json()
    listed = response.get_json()["tokens"]
    assert [(t["role"], t["deputy_id"], t["label"]) for t in listed] == [
        ("secretary", None, "Секретар ради"),
        ("deputy", hall.deputies[0], f"deputy {hall.deputies[0]}"),
    ]
    assert all(t["created_at"] and t["revoked_at"] is None for t in listed)
    text = response.get_data(as_text=True)
    assert secretary not in text and deputy not in text
    assert auth.token_digest(secretary) not in text


@pytest.mark.parametrize("role", ["chair", "deputy"])
def test_only_the_secretary_lists_or_revokes_tokens(
    hall, runtime: Runtime, client: FlaskClient, role: str
) -> None:
    target, target_token = issue(runtime, "secretary")
    _, token = issue(runtime, role, hall.deputies[0] if role == "deputy" else None)
    assert client.get(f"{API}/tokens", headers=bearer(token)).status_code == 403
    assert client.delete(f"{API}/tokens/{target}", headers=bearer(token)).status_code == 403
    assert client.get(f"{API}/me", headers=bearer(target_token)).status_code == 200


def test_a_revoked_token_gets_401(hall, runtime: Runtime, client: FlaskClient) -> None:
    _, secretary = issue(runtime, "secretary")
    target, deputy = issue(runtime, "deputy", hall.deputies[0])
    assert client.get(f"{API}/me", headers=bearer(deputy)).status_code == 200

    response = client.delete(f"{API}/tokens/{target}", headers=bearer(secretary))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["id"] == target and body["revoked_at"]

    refused = client.get(f"{API}/me", headers=bearer(deputy))
    assert refused.status_code == 401
    assert "revoked" in refused.get_json()["error"]["message"]
    cast = client.post(f"{API}/sittings/{hall.sitting}/register", headers=bearer(deputy))
    assert cast.status_code == 401
    listed = {
        t["id"]: t
        for t in client.get(f"{API}/tokens", headers=bearer(secretary)).get_json()["tokens"]
    }
    assert listed[target]["revoked_at"] == body["revoked_at"]

    again = client.delete(f"{API}/tokens/{target}", headers=bearer(secretary))
    assert again.status_code == 409
    assert f"token {target}" in again.get_json()["error"]["message"]
    assert "already revoked" in again.get_json()["error"]["message"]


def test_revoking_an_unknown_token_is_not_found(
    hall, runtime: Runtime, client: FlaskClient
) -> None:
    _, secretary = issue(runtime, "secretary")
    for ident in (987654, 3_000_000_000, 10**20):
        response = client.delete(f"{API}/tokens/{ident}", headers=bearer(secretary))
        assert response.status_code == 404
        assert f"token {ident} does not exist" in response.get_json()["error"]["message"]
    assert client.get(f"{API}/me", headers=bearer(secretary)).status_code == 200


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def voting(
    hall,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):  # type: ignore[no-untyped-def]
    """Run `voting --config <config naming the hall's database> ARGS...`."""
    for name in ("VOTING_CONFIG", "VOTING_DATABASE_URL", "VOTING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config.toml"
    config.write_text(
        f"[server]\ninstance_path = {json.dumps(str(tmp_path / 'instance'))}\n"
        f"[database]\nurl = {json.dumps(db_url)}\n",
        encoding="utf-8",
    )

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--config", str(config), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_token_list_and_revoke_from_the_command_line(hall, runtime: Runtime, voting) -> None:
    code, out, _ = voting("token", "list")
    assert code == 0 and "No tokens" in out

    secretary_id, secretary = issue(runtime, "secretary", label="Оператор залу")
    deputy_id, deputy = issue(runtime, "deputy", hall.deputies[4])
    code, out, err = voting("token", "list")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].split() == ["ID", "ROLE", "DEPUTY", "LABEL", "CREATED", "REVOKED"]
    assert lines[1].startswith(f"{secretary_id} ") and "Оператор залу" in lines[1]
    assert lines[2].startswith(f"{deputy_id} ") and f" {hall.deputies[4]} " in lines[2]
    assert secretary not in out and deputy not in out

    code, out, err = voting("token", "revoke", str(deputy_id))
    assert code == 0, err
    assert f"Token {deputy_id} revoked at" in out
    with pytest.raises(PermissionDenied, match="revoked"):
        auth.actor_for_token(runtime.uow(), deputy)
    assert auth.actor_for_token(runtime.uow(), secretary).role == "secretary"
    assert voting("token", "list")[1].strip().splitlines()[2].count("UTC") == 2  # and revoked

    code, _, err = voting("token", "revoke", str(deputy_id))
    assert code == 2 and "already revoked" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args, words",
    [
        (("token", "revoke", "987654"), "token 987654 does not exist"),
        (("token", "revoke", str(10**20)), f"token {10**20} does not exist"),
        (
            ("token", "create", "--role", "deputy", "--deputy", str(10**20)),
            f"deputy {10**20} does not exist",
        ),
        (("token", "create", "--role", "deputy", "--deputy", "1e20"), "invalid int value"),
    ],
)
def test_token_commands_name_a_bad_id(voting, args: tuple[str, ...], words: str) -> None:
    code, out, err = voting(*args)
    assert code == 2 and words in err and "Traceback" not in err, (out, err)


def test_many_connections_tokens_are_checked_in_one_read(hall, runtime: Runtime) -> None:
    """What a server holding hundreds of connections asks every few seconds: which of their
    tokens no longer hold (revoked, expired, or never issued)."""
    kept = [
        auth.create_token(
            runtime.uow(), SYSTEM, CreateToken.parse({"role": "deputy", "deputy_id": d})
        )
        for d in hall.deputies[:3]
    ]
    revoked = auth.create_token(
        runtime.uow(), SYSTEM, CreateToken.parse({"role": "deputy", "deputy_id": hall.deputies[3]})
    )
    [revoked_id] = [
        t["id"]
        for t in auth.list_tokens(runtime.uow(), SYSTEM)
        if t["deputy_id"] == hall.deputies[3]
    ]
    auth.revoke_token(runtime.uow(), SYSTEM, revoked_id)
    auth.add_user(runtime.uow(), SYSTEM, "clerk", "a long enough password", "secretary")
    expiring = auth.login(
        runtime.uow(),
        SignIn.parse({"username": "clerk", "password": "a long enough password"}),
        lifetime=timedelta(minutes=5),
    ).token
    assert auth.invalid_tokens(runtime.uow(), [*kept, revoked, expiring, "never-issued"]) == {
        revoked,
        "never-issued",
    }
    hall.clock.advance(6 * 60)
    assert auth.invalid_tokens(runtime.uow(), [*kept, expiring]) == {expiring}
    holder = auth.token_holder(runtime.uow(), kept[0])
    assert holder.actor.deputy_id == hall.deputies[0] and holder.expires_at is None
    assert auth.invalid_tokens(runtime.uow(), []) == set()
