"""The model ``batchbald score`` scores with: a campaign's latest checkpoint, or a spec + weights.

* :func:`campaign_model`: the model a campaign's last ``propose`` trained (its ``models`` row of
  highest version), rebuilt as the campaign builds it (``build_model(settings.model, C)``) and
  loaded from the stored state dict; with it come the campaign's source, image format and K.
* :func:`spec_model`: a registered model name (``mnist_cnn``, ``embeddings_mlp``, ...) or a TOML
  file with a ``[model]`` table (:class:`~batchbald.models.ModelSpec`), loaded from a local
  weights file.

``batchbald run`` trials keep no weights (their JSON holds the loop's state, not the model), so a
run's model is scored through its spec and a weights file saved by the user.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from batchbald.data.pool_images import ImageFormat
from batchbald.errors import ConfigError, InvalidInputError, WeightsError

__all__ = ["CampaignModel", "campaign_model", "spec_model"]


@dataclass(frozen=True)
class CampaignModel:
    """A campaign's trained model and what it scores.

    Attributes:
        model: the Bayesian model, eval mode.
        version: its version in the campaign's ``models`` table.
        source: the campaign's pool source spec.
        image_format: the campaign's image format.
        k: the campaign's MC-dropout samples.
    """

    model: Any
    version: int
    source: str
    image_format: ImageFormat
    k: int


def campaign_model(project: str | Path) -> CampaignModel:
    """The latest trained model of the campaign in ``project``.

    Raises:
        NotACampaignError: ``project`` holds no campaign.
        InvalidInputError: the campaign has no trained model yet.
        WeightsError: the stored checkpoint does not fit the campaign's model.
    """
    from sqlalchemy import select

    from batchbald.campaign.core import Campaign
    from batchbald.campaign.schema import models
    from batchbald.models import build_model

    campaign = Campaign.open(project)
    try:
        with campaign.store.begin() as connection:
            query = select(models.c.version, models.c.checkpoint).order_by(models.c.version.desc())
            row = connection.execute(query.limit(1)).first()
    finally:
        campaign.close()
    settings = campaign.settings
    if row is None:
        raise InvalidInputError(
            f"--campaign {str(project)!r} has no trained model yet: label some items and run "
            "`batchbald campaign propose` first (or pass --model and --weights)"
        )
    fmt = settings.image_format()
    shape = (fmt.channels, fmt.size, fmt.size)
    model = build_model(settings.model, len(settings.classes), input_shape=shape)
    _load_state(model, io.BytesIO(row.checkpoint), f"campaign model version {row.version}")
    return CampaignModel(model.eval(), row.version, settings.source, fmt, settings.k)


def _load_state(model: torch.nn.Module, handle: Any, what: str) -> None:
    try:
        state = torch.load(handle, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except (RuntimeError, ValueError, KeyError, EOFError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise WeightsError(f"cannot load {what}: {message}") from None


def _spec_from_toml(path: Path) -> Any:
    import tomllib

    from batchbald.experiments._checks import build
    from batchbald.models import ModelSpec

    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"--model file {str(path)!r} cannot be read: {error}") from None
    model = table.get("model")
    if isinstance(model, str):
        return ModelSpec(model)
    if not isinstance(model, dict):
        raise ConfigError(f'--model file {str(path)!r} needs a [model] table or model = "name"')
    return build(ModelSpec, model, "model")


def spec_model(model: str, weights: str | None, num_classes: int, input_shape: tuple) -> Any:
    """The model of ``model`` (a name or a ``.toml`` file) with ``weights`` loaded; eval mode.

    Args:
        model: a registered model name, or a TOML file with a ``[model]`` table.
        weights: a local ``.safetensors`` / state-dict file (None: the spec's ``weights``).
        num_classes: C.
        input_shape: one input's shape (``inputs.shape[1:]``).

    Raises:
        ConfigError: unknown model name, bad ``[model]`` table, or missing weights file.
        WeightsError: the weights do not fit the model.
    """
    from dataclasses import replace

    from batchbald.models import ModelSpec, available_models
    from batchbald.models.builders import build_from_spec

    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise InvalidInputError(f"--num-classes must be an int ≥ 2; got {num_classes!r}")
    if model.endswith(".toml"):
        spec = _spec_from_toml(Path(model))
    elif model in available_models():
        spec = ModelSpec(model)
    else:
        raise ConfigError(
            f"--model must be a model name ({', '.join(available_models())}) or a .toml file "
            f"with a [model] table; got {model!r}"
        )
    if weights is not None:
        if not Path(weights).is_file():
            raise WeightsError(f"--weights file {weights!r} does not exist (nothing is downloaded)")
        spec = replace(spec, weights=weights)
    if not spec.weights:
        raise InvalidInputError(
            "--model needs trained weights: pass --weights FILE (or weights = ... in the "
            "[model] table); scoring a fresh initialisation is never what you want"
        )
    return build_from_spec(spec, num_classes, tuple(input_shape)).eval()
