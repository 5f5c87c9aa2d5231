"""Opening databases: corrupt, foreign, newer schema, empty, old schema upgraded; the lock."""

from __future__ import annotations

import json
import os

import pytest
from sqlalchemy import insert, select, text

from batchbald.campaign import (
    Campaign,
    CorruptDatabaseError,
    ForeignDatabaseError,
    NewerSchemaError,
    NotACampaignError,
    ProposeBusyError,
    lock,
    schema,
)
from batchbald.campaign.store import Store, now

from .helpers import FAST


def _project(tmp_path, url=None):
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    payload = {"format": "batchbald-campaign", "version": 1, "db_url": url}
    (project / "campaign.json").write_text(json.dumps(payload))
    return project


def test_corrupt_sqlite_file(tmp_path):
    project = _project(tmp_path)
    (project / "campaign.db").write_bytes(b"this is not a database, just text " * 100)
    with pytest.raises(CorruptDatabaseError, match="corrupt or not a database"):
        Campaign.open(project)


def test_foreign_database(tmp_path, db_url):
    store = Store(db_url)
    with store.begin() as connection:
        connection.execute(text("CREATE TABLE customers (id INTEGER PRIMARY KEY)"))
    with pytest.raises(ForeignDatabaseError, match="holds tables of something else"):
        Campaign.open(_project(tmp_path, db_url))


def test_empty_database_is_not_a_campaign(tmp_path, db_url):
    with pytest.raises(NotACampaignError, match="holds no campaign"):
        Campaign.open(_project(tmp_path, db_url))


def test_missing_project_file(tmp_path):
    with pytest.raises(NotACampaignError, match="project must be a campaign folder"):
        Campaign.open(tmp_path)


def test_newer_schema_is_refused(campaign):
    with campaign.store.begin() as connection:
        connection.execute(
            insert(schema.schema_version).values(version=99, description="future", applied_at=now())
        )
    with pytest.raises(NewerSchemaError, match="schema version 99, newer than"):
        Campaign.open(campaign.project)


def test_old_schema_is_upgraded_keeping_data(tmp_path, db_url):
    store = Store(db_url)
    assert store.create_at_version(1) == 1
    with store.begin() as connection:
        connection.execute(insert(schema.campaign).values(id=1, created_at=now(), settings="{}"))
    assert store.check() == schema.SCHEMA_VERSION
    with store.begin() as connection:
        versions = [row.version for row in connection.execute(select(schema.schema_version))]
        assert versions == [1, 2]
        assert connection.execute(select(schema.campaign.c.id)).scalar() == 1
        assert connection.execute(select(schema.assignments)).all() == []


def test_init_twice_is_refused(campaign, pool):
    with pytest.raises(Exception, match="already holds a campaign"):
        Campaign.init(campaign.project, source=f"npz:{pool[0]}", classes=["a", "b"], **FAST)


def test_second_propose_while_one_runs_is_refused(campaign):
    owner = lock.new_owner()  # this (living) process: as if a propose were running here
    lock.take_lock(campaign.store, owner)
    with pytest.raises(ProposeBusyError, match="another propose is running"):
        campaign.propose()
    assert campaign.propose_state().state == "running"
    reopened = Campaign.open(campaign.project)
    with pytest.raises(ProposeBusyError):
        reopened.propose()


def test_a_dead_owners_lock_reads_failed_and_is_taken_over(campaign):
    dead = f"{os.uname().nodename}:999999999:dead"
    lock.take_lock(campaign.store, dead)
    state = campaign.propose_state()
    assert state.state == "failed" and "stopped during" in state.message
    assert campaign.propose().number == 1
    assert campaign.propose_state().state == "idle"
