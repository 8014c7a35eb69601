"""A short sitting through the services: registration, a roll-call vote, a secret ballot."""


def test_smoke(hall):
    hall.open_registration()
    hall.register(*hall.everyone[:30])
    v = hall.open_vote(item_id=hall.items[0])
    hall.cast_many(v, hall.deputies[:22], "for")
    r = hall.close(v)
    assert r["result"] == "adopted" and r["total_composition"] == 42
    s = hall.open_vote(title="Таємне", kind="secret")
    hall.cast_many(s, hall.deputies[:5], "against")
    assert hall.close(s)["against"] == 5
