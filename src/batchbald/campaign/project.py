"""A campaign's project folder: ``campaign.json`` says where its database is."""

from __future__ import annotations

import json
from pathlib import Path

from batchbald.atomic import atomic_write_text
from batchbald.campaign.errors import NotACampaignError
from batchbald.campaign.store import Store

__all__ = ["DEFAULT_DB", "PROJECT_FILE", "project_store", "write_project"]

PROJECT_FILE = "campaign.json"
DEFAULT_DB = "campaign.db"


def write_project(project: Path, db_url: str | None) -> None:
    """Write ``project/campaign.json`` atomically (``db_url`` None: the SQLite file beside it)."""
    payload = {"format": "batchbald-campaign", "version": 1, "db_url": db_url}
    atomic_write_text(project / PROJECT_FILE, json.dumps(payload, indent=2) + "\n")


def project_store(project: Path) -> Store:
    """The store ``project/campaign.json`` names.

    Raises:
        NotACampaignError: no such file, or not a campaign file.
    """
    path = project / PROJECT_FILE
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotACampaignError(
            f"project must be a campaign folder (with {PROJECT_FILE}); got {str(project)!r}; "
            "create one with batchbald campaign init"
        ) from None
    except (OSError, ValueError) as error:
        raise NotACampaignError(f"project: cannot read {path}: {error}") from None
    if not isinstance(payload, dict) or payload.get("format") != "batchbald-campaign":
        raise NotACampaignError(f"project: {path} is not a batchbald campaign file")
    url = payload.get("db_url")
    return Store(url) if url else Store.sqlite_file(project / DEFAULT_DB)
