"""The library's exceptions and warnings.

Errors use dual inheritance so callers can catch either the library's base class or the
built-in one they would expect (``except ValueError`` keeps working).
"""

from __future__ import annotations

__all__ = [
    "BatchBALDError",
    "BatchBALDWarning",
    "ClusterError",
    "ConfigError",
    "DataError",
    "FewSamplesWarning",
    "InvalidInputError",
    "JointMutualInformationSaturationWarning",
    "ModelError",
    "OutputError",
    "SingleSampleWarning",
    "StoreError",
    "UnknownNameError",
    "WeightsError",
]


class BatchBALDError(Exception):
    """Base class of every error raised by batchbald."""


class InvalidInputError(BatchBALDError, ValueError):
    """An argument has the wrong shape, dtype, range or value."""


class UnknownNameError(BatchBALDError, KeyError):
    """A name (acquirer, dataset, config) is not registered.

    ``KeyError`` quotes its message in ``str()``; this class does not.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ModelError(InvalidInputError):
    """A model cannot be used as asked: no dropout for MC dropout, output not ``[B, C]``, ..."""


class WeightsError(BatchBALDError, ValueError):
    """A weights file is missing or unreadable, or its tensors do not fit the architecture."""


class ConfigError(BatchBALDError, ValueError):
    """An experiment configuration is invalid (unknown key, bad value)."""


class DataError(BatchBALDError, OSError):
    """A data file is missing, corrupt or truncated, or could not be downloaded."""


class OutputError(BatchBALDError, OSError):
    """An output file or folder cannot be written.

    No permission, a file where a folder should be, a folder where a file should be, a full
    disk, or an existing file that a command will not replace without being asked to.
    ``errno``, ``strerror`` and ``filename`` are the system's where it gave them; ``str()`` is
    the message alone (not ``OSError``'s ``[Errno N] ...`` form).
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class StoreError(DataError):
    """A log-probability store is inconsistent.

    Shards disagree in K, C or dtype, a shard is truncated or fails its checksum, or rows are
    missing (an unfinished scoring job).
    """


class ClusterError(BatchBALDError, ConnectionError):
    """A Ray cluster cannot be reached, or a distributed job lost work it could not redo."""


class BatchBALDWarning(UserWarning):
    """Base class of every diagnostic warning emitted by batchbald."""


class SingleSampleWarning(BatchBALDWarning):
    """K = 1 posterior sample: BALD and BatchBALD are identically zero."""


class JointMutualInformationSaturationWarning(BatchBALDWarning):
    """The estimated joint mutual information approaches log K.

    With K posterior samples, I(y_1..y_n; ω) ≤ H(ω) = log K, so once the batch's joint MI
    nears that ceiling, further greedy picks are driven by estimation noise.
    """


class FewSamplesWarning(BatchBALDWarning):
    """Fewer sampled label configurations than 10·K in BatchBALD's sampled phase."""
