"""BoxopsLogger in a real Lightning training, in a fresh interpreter laid out as a run's
(its SDK dir, no gateway: the points are buffered there as the executor reads them)."""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TRAIN = """
import lightning as L
import torch
from boxops.integrations.lightning import BoxopsLogger

class Model(L.LightningModule):
    def __init__(self, lr=0.05, hidden=4):
        super().__init__()
        self.save_hyperparameters()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch, _):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

torch.manual_seed(0)
x = torch.randn(64, 2)
data = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
trainer = L.Trainer(
    max_epochs=2, logger=BoxopsLogger(prefix="fit"), log_every_n_steps=1, accelerator="cpu",
    enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
)
trainer.fit(Model(), torch.utils.data.DataLoader(data, batch_size=8))
print(trainer.logger.name, trainer.logger.version)
"""


def python(code: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")} | env
    environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), environ.get("PYTHONPATH", "")])
    program = [sys.executable, "-c", textwrap.dedent(code)]
    return subprocess.run(program, cwd=cwd, env=environ, capture_output=True, text=True)


@pytest.mark.skipif(
    importlib.util.find_spec("lightning") is None,
    reason="lightning is an optional extra (pip install 'boxops[lightning]')",
)
def test_a_trainers_metrics_are_recorded_per_step_and_its_hyperparams_as_params(
    tmp_path: Path,
) -> None:
    sdk = tmp_path / "sdk"
    done = python(TRAIN, tmp_path, {"BOXOPS_RUN_ID": "run-7", "BOXOPS_SDK_DIR": str(sdk)})

    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == ["boxops", "run-7"]
    points = [json.loads(x) for x in (sdk / "metrics.jsonl").read_text().splitlines()]
    losses = [p for p in points if p["name"] == "fit-train_loss"]
    assert [p["step"] for p in losses] == list(range(16))  # 8 batches, 2 epochs
    assert losses[-1]["value"] < losses[0]["value"]
    assert {p["value"] for p in points if p["name"] == "fit-epoch"} == {0.0, 1.0}
    records = [json.loads(x) for x in (sdk / "records.jsonl").read_text().splitlines()]
    assert {r["name"]: r["value"] for r in records if r["kind"] == "param"} == {
        "lr": 0.05,
        "hidden": 4,
    }


def test_without_lightning_the_module_says_which_extra_to_install(tmp_path: Path) -> None:
    code = """
        import sys
        sys.modules["lightning"] = None  # as if it were not installed
        try:
            import boxops.integrations.lightning
        except ImportError as err:
            print(err)
    """
    done = python(code, tmp_path, {})

    assert done.stdout.strip() == (
        "boxops.integrations.lightning needs lightning: pip install 'boxops[lightning]'"
    )
