"""Step 1 — prepare: split the raw iris table into train and test, and scale the features.

This black box has no boxops import at all. It reads its input from $BOXOPS_INPUTS/raw/
and writes two outputs, each a folder under $BOXOPS_OUTPUTS/ that boxops records as a
new dataset version (iris-train, iris-test) with lineage back to the raw version.
"""

import os
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

raw_dir = Path(os.environ["BOXOPS_INPUTS"]) / "raw"
outputs = Path(os.environ["BOXOPS_OUTPUTS"])
test_size = float(os.environ.get("BOXOPS_PARAM_TEST_SIZE", "0.3"))

# Every CSV file of the input version, as one table.
frame = pd.concat(pd.read_csv(path) for path in sorted(raw_dir.rglob("*.csv")))
features = [column for column in frame.columns if column != "species"]
train, test = train_test_split(
    frame, test_size=test_size, random_state=42, stratify=frame["species"]
)

# Fit the scaler on the training rows only, so the test set stays unseen.
scaler = StandardScaler().fit(train[features])
for part, rows in (("train", train), ("test", test)):
    scaled = rows.copy()
    scaled[features] = scaler.transform(rows[features])
    (outputs / part).mkdir(parents=True, exist_ok=True)
    scaled.to_csv(outputs / part / f"{part}.csv", index=False)

print(f"prepared {len(train)} training rows and {len(test)} test rows")
print(f"::metric name=rows value={len(frame)}")
