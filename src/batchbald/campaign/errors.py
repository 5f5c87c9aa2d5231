"""The campaign's named errors; every message names the argument, what was expected and got."""

from __future__ import annotations

from batchbald.errors import BatchBALDError, DataError, InvalidInputError

__all__ = [
    "CampaignError",
    "CorruptDatabaseError",
    "ForeignDatabaseError",
    "InvalidLabelError",
    "NewerSchemaError",
    "NotACampaignError",
    "ProposeBusyError",
    "UnknownItemError",
]


class CampaignError(BatchBALDError):
    """Base class of every campaign error."""


class InvalidLabelError(CampaignError, InvalidInputError):
    """A label, annotator name or request id is not acceptable."""


class UnknownItemError(CampaignError, InvalidInputError):
    """An item is not in the pool, or not in the current round."""


class NotACampaignError(CampaignError, DataError):
    """The project folder or database holds no campaign."""


class CorruptDatabaseError(CampaignError, DataError):
    """The database file cannot be read as a database."""


class ForeignDatabaseError(CampaignError, DataError):
    """The database holds tables of something other than a batchbald campaign."""


class NewerSchemaError(CampaignError, DataError):
    """The database was written by a newer batchbald (schema version above this one's)."""


class ProposeBusyError(CampaignError):
    """Another ``propose`` is running on this campaign (in this or another process)."""
