"""A PyTorch Lightning logger that records in the boxops run: metrics per step, hyperparams
as params.

    from boxops.integrations.lightning import BoxopsLogger
    trainer = lightning.Trainer(logger=BoxopsLogger(), max_epochs=10)

Needs the `lightning` package (`pip install 'boxops[lightning]'`). Outside a run the SDK
writes what it is given to ./boxops-local/, as for any SDK call.
"""

from argparse import Namespace
from collections.abc import Mapping
from types import ModuleType
from typing import Any

try:
    from lightning.pytorch.loggers import Logger
    from lightning.pytorch.utilities import rank_zero_only
except ImportError as err:  # an optional extra: say which
    raise ImportError(
        "boxops.integrations.lightning needs lightning: pip install 'boxops[lightning]'"
    ) from err

from boxops import sdk
from boxops.autologging.naming import flat_params


class BoxopsLogger(Logger):
    """Lightning's `self.log(...)` values as boxops metrics (with the trainer's global step),
    and `save_hyperparameters()` / `log_hyperparams` as the run's params.

    `prefix` is put before every metric's name (`prefix-name`), as Lightning's loggers do."""

    def __init__(self, prefix: str = "") -> None:
        super().__init__()
        self._prefix = prefix

    @property
    def name(self) -> str:
        return "boxops"

    @property
    def version(self) -> str:
        """The run's id ("local" outside a run)."""
        return sdk.run_id() or "local"

    @property
    def experiment(self) -> ModuleType:
        """The boxops SDK itself: `logger.experiment.log_curve(...)` and the rest."""
        return sdk

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        for key, value in metrics.items():
            name = f"{self._prefix}-{key}" if self._prefix else key
            sdk.log_metric(name, float(value), step)

    @rank_zero_only
    def log_hyperparams(
        self, params: Mapping[str, Any] | Namespace | None, *args: Any, **kwargs: Any
    ) -> None:
        if params is None:
            return
        sdk.log_params(flat_params(vars(params) if isinstance(params, Namespace) else params))

    @rank_zero_only
    def save(self) -> None:
        sdk.flush()

    @rank_zero_only
    def finalize(self, status: str) -> None:
        sdk.flush()
