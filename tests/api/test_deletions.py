"""Deletions visible to a syncing client: each record deleted from a list is kept as a
tombstone and listed by /api/v1/deletions with the lists' own updated_since."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from app.extensions import db
from app.models import Deletion, Responsibility, System
from app.models.audit import set_cli_actor
from app.models.user import Role
from tests.api import factories as f
from tests.api.test_paging_sync import walk

# Purging asks for a reason and a tick (the admin correction path).
PURGE = {"reason": "Logged twice", "confirm": "y"}


def test_updated_since_returns_created_changed_archived_and_deleted_and_nothing_else(
    api_get, client_as, token_of, users
):
    old = [f.threat(f"Old {i}") for i in range(5)]
    db.session.commit()
    earlier = old[2].id  # purged before the sync point: not news to the client
    admin = client_as(Role.ADMIN)
    assert admin.post(f"/threats/{earlier}/archive").status_code == 302
    assert admin.post(f"/threats/{earlier}/purge", data=PURGE).status_code == 302
    mfa = f.countermeasure("MFA", threats=[old[3]])
    f.countermeasure("Backups", threats=[old[0]])
    db.session.commit()
    first = api_get("/api/v1/deletions?per_page=1").json
    synced = first["synced_at"]
    time.sleep(0.01)

    created = f.threat("New one")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token_of(Role.SECURITY)}"}
    security = client_as(Role.SECURITY)
    changed = old[0]
    response = security.patch(
        f"/api/v1/threats/{changed.id}",
        json={"version": changed.version, "title": "Old 0, renamed"},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    archived = old[1]
    security.post(f"/api/v1/threats/{archived.id}/archive", headers=headers)
    purged_id = old[3].id
    assert admin.post(f"/threats/{purged_id}/archive").status_code == 302
    assert admin.post(f"/threats/{purged_id}/purge", data=PURGE).status_code == 302

    since = urlencode({"updated_since": synced})
    threats = walk(api_get, f"/api/v1/threats?{since}&include_archived=1&after=0")
    assert {t["id"]: t["archived"] for t in threats} == {
        created.id: False,
        changed.id: False,
        archived.id: True,
    }
    deletions = walk(api_get, f"/api/v1/deletions?{since}&after=0")
    assert [(d["entity"], d["entity_id"]) for d in deletions] == [("threats", purged_id)]
    assert deletions[0]["deleted_by_id"] == users[Role.ADMIN].id
    assert datetime.fromisoformat(deletions[0]["deleted_at"]) >= datetime.fromisoformat(synced)
    # The countermeasure that treated the purged threat lost it: listed as changed.
    measures = walk(api_get, f"/api/v1/countermeasures?{since}&include_archived=1")
    assert [(c["id"], c["threats"]) for c in measures] == [(mfa.id, [])]
    # Without updated_since, every deletion so far, oldest first.
    everything = api_get("/api/v1/deletions").json
    assert [d["entity_id"] for d in everything["items"]] == [earlier, purged_id]
    assert everything["total"] == 2


def test_deletions_filter_by_list_and_page_like_the_lists(api_get):
    set_cli_actor(None, "cleanup")
    systems = [f.system(f"System {i}") for i in range(3)]
    ada = f.staff("Ada")
    duty = f.responsibility(ada, systems[0])
    db.session.commit()
    ids = [s.id for s in systems]
    db.session.delete(db.session.get(Responsibility, duty.id))
    for system_id in ids:
        db.session.delete(db.session.get(System, system_id))
    db.session.commit()
    kept = db.session.scalars(db.select(Deletion).order_by(Deletion.id)).all()
    assert [(d.entity, d.actor, d.deleted_by_id) for d in kept] == [
        ("responsibilities", "cleanup", None),
        *[("systems", "cleanup", None)] * 3,
    ]
    only_systems = walk(api_get, "/api/v1/deletions?entity=systems&per_page=2&after=0")
    assert [d["entity_id"] for d in only_systems] == ids
    page = api_get("/api/v1/deletions?entity=responsibilities").json
    assert [d["entity_id"] for d in page["items"]] == [duty.id]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert api_get("/api/v1/deletions", query_string={"updated_since": future}).json["total"] == 0
    for bad in ("entity=threat", "include_archived=1", "sort=id", "updated_since=yesterday"):
        response = api_get(f"/api/v1/deletions?{bad}")
        assert response.status_code == 422, bad
        assert bad.split("=")[0] in response.json["errors"], bad


def test_a_delete_that_fails_leaves_no_deletion(api_get):
    system = f.system("Billing")
    db.session.commit()
    db.session.delete(system)
    db.session.flush()
    assert db.session.scalar(db.select(db.func.count()).select_from(Deletion)) == 1
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(Deletion)) == 0
    assert api_get("/api/v1/deletions").json["items"] == []
