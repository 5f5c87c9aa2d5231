"""A campaign's settings: fixed at ``init``, stored in the database, shared by every process."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from batchbald.campaign.errors import CampaignError, InvalidLabelError
from batchbald.data.pool_images import ImageFormat
from batchbald.errors import ConfigError, InvalidInputError, UnknownNameError
from batchbald.training.labels_only import LabelsOnlyRegime

__all__ = [
    "ANNOTATOR_PATTERN",
    "CampaignSettings",
    "check_annotator",
    "check_classes",
    "check_model",
    "model_setting",
]

#: Annotator names: a letter or digit, then up to 63 letters, digits, ``. _ @ -``.
ANNOTATOR_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_CLASS_PATTERN = re.compile(r"[^\s,/\\][^,/\\]{0,99}")


def check_annotator(name: object) -> str:
    """``name`` if it matches :data:`ANNOTATOR_PATTERN`, else :class:`InvalidLabelError`."""
    if not isinstance(name, str) or not ANNOTATOR_PATTERN.fullmatch(name):
        raise InvalidLabelError(
            "annotator must be 1-64 characters: a letter or digit, then letters, digits, "
            f"'.', '_', '@' or '-'; got {name!r}"
        )
    return name


def check_classes(classes: object) -> tuple[str, ...]:
    """Two or more distinct class names without commas or slashes."""
    if isinstance(classes, str) or not isinstance(classes, (list, tuple)):
        raise InvalidInputError(f"classes must be a sequence of names; got {classes!r}")
    names = tuple(classes)
    bad = [
        name for name in names if not isinstance(name, str) or not _CLASS_PATTERN.fullmatch(name)
    ]
    if len(names) < 2 or bad or len(set(names)) != len(names):
        raise InvalidInputError(
            "classes must be ≥ 2 distinct names of 1-100 characters without ',', '/' or '\\' "
            f"and not starting with a space; got {list(names)!r}"
        )
    return names


@dataclass(frozen=True)
class CampaignSettings:
    """Everything that decides a campaign's picks (see ``batchbald campaign init --help``).

    Attributes:
        source: the pool source spec (``folder:/abs/path``, ``csv:...``, ``npz:...``).
        classes: the class names, in button order.
        method: an acquirer name (``batchbald list``).
        method_params: the acquirer's parameters.
        batch_size: items proposed per round.
        model: a model kind (``batchbald list``), or a dict of
            :class:`~batchbald.models.ModelSpec` fields (the ``[model]`` table of
            ``batchbald run`` configs); a relative ``weights`` path is made absolute.
        seed: the campaign's seed (all generators derive from it).
        k: posterior samples to score the pool (MC dropout masks; members of an ensemble).
        training: ``TrainingConfig`` fields.
        regime: ``LabelsOnlyRegime`` fields (how models are selected without free labels).
        image: ``ImageFormat`` fields (size, channels, mean, std).
        target: a source spec of unlabelled *target* inputs, a sample of what the model will be
            used on (e.g. ``folder:/data/deployment_sample``), for the EPIG methods; "" makes
            them draw their targets from the pool.
    """

    source: str
    classes: tuple[str, ...]
    method: str = "batchbald"
    method_params: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 10
    model: str | dict[str, Any] = "mnist_cnn"
    seed: int = 0
    k: int = 20
    training: dict[str, Any] = field(default_factory=dict)
    regime: dict[str, Any] = field(default_factory=dict)
    image: dict[str, Any] = field(default_factory=dict)
    target: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", check_classes(self.classes))
        for name in ("batch_size", "k"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be an int ≥ 1; got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidInputError(f"seed must be an int ≥ 0; got {self.seed!r}")
        object.__setattr__(self, "model", model_setting(self.model))
        self._check_method()
        self.image_format(), self.labels_only_regime(), self.training_config()

    def _check_method(self) -> None:
        from batchbald.acquisition import get_acquirer

        try:
            acquirer = get_acquirer(self.method, **self.method_params)
        except UnknownNameError as error:
            raise UnknownNameError(f"method: {error}") from None
        if not isinstance(self.target, str):
            raise InvalidInputError(f"target must be a source spec string; got {self.target!r}")
        if self.target and not acquirer.uses_targets:
            raise InvalidInputError(
                "target is only used by the EPIG methods (epig, power_epig, batch_epig); "
                f"method {self.method!r} does not use target inputs"
            )

    def model_spec(self) -> Any:
        """The :class:`~batchbald.models.ModelSpec` of ``model`` (checks files and factories).

        Raises:
            ConfigError: a bad option, a weights file that is gone, an unimportable factory.
        """
        from batchbald.models import ModelSpec

        if isinstance(self.model, str):
            return ModelSpec(self.model)
        from batchbald.experiments._checks import build

        return build(ModelSpec, self.model, "model")

    def image_format(self) -> ImageFormat:
        """The :class:`ImageFormat` of ``image``."""
        return _build(ImageFormat, self.image, "image")

    def labels_only_regime(self) -> LabelsOnlyRegime:
        """The :class:`LabelsOnlyRegime` of ``regime``."""
        return _build(LabelsOnlyRegime, self.regime, "regime")

    def training_config(self) -> Any:
        """The ``TrainingConfig`` of ``training``."""
        from batchbald.training import TrainingConfig

        return _build(TrainingConfig, self.training, "training")

    def to_json(self) -> str:
        """JSON text (stored in the database)."""
        return json.dumps({**asdict(self), "classes": list(self.classes)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CampaignSettings:
        """Inverse of :meth:`to_json`."""
        payload = json.loads(text)
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in payload.items() if key in known})


def model_setting(value: Any) -> str | dict[str, Any]:
    """A campaign's ``model`` setting, checked without touching files: a kind, or a table.

    A table's keys must be :class:`~batchbald.models.ModelSpec` fields and its ``kind`` a
    registered kind; a relative ``weights`` path becomes absolute (``propose`` may run
    elsewhere). The deep checks (files, factories, shapes) are :meth:`CampaignSettings.model_spec`
    and ``Campaign.init``'s.
    """
    from batchbald.models import ModelSpec, available_models

    if isinstance(value, Mapping):
        table = dict(value)
        valid = [name for name in ModelSpec.__dataclass_fields__]
        unknown = sorted(set(table) - set(valid))
        if unknown:
            raise ConfigError(f"model.{unknown[0]}: unknown key; valid keys: {', '.join(valid)}")
        if not table.get("kind"):
            raise ConfigError(f"model.kind: missing; one of {', '.join(available_models())}")
        kind = table["kind"]
        if isinstance(table.get("weights"), str) and table["weights"]:
            table["weights"] = str(Path(table["weights"]).expanduser().resolve())
        try:
            table = json.loads(json.dumps(table))  # plain JSON types (tuples become lists)
        except (TypeError, ValueError) as error:
            message = f"model: values must be numbers, strings, lists or tables: {error}"
            raise ConfigError(message) from None
    else:
        kind, table = value, value
    if not isinstance(kind, str) or kind not in available_models():
        valid = ", ".join(available_models())
        raise UnknownNameError(f"model must be one of {valid}; got {kind!r}")
    return table


def _build(kind: type, values: dict[str, Any], name: str) -> Any:
    try:
        return kind(**values)
    except TypeError as error:
        raise InvalidInputError(f"{name}: {error}") from None
    except CampaignError:
        raise


def check_model(settings: CampaignSettings, pool: Any) -> None:
    """Build the campaign's model once on blank inputs of the pool's shape (named errors)."""
    from batchbald.data.pool_features import FeaturesSource
    from batchbald.models.builders import check_spec

    if isinstance(pool, FeaturesSource):
        shape: tuple[int, ...] = (int(pool.features.shape[1]),)
    else:
        fmt = settings.image_format()
        shape = (fmt.channels, fmt.size, fmt.size)
    check_spec(settings.model_spec(), len(settings.classes), shape, k=settings.k)
