"""The seed's feature matrix, shared by its Keras recipe (``keras_seed.py``) and the identical-input run of ``run_bench.py``.

Kept free of TensorFlow and of hotleads so that both environments import the very same function:
the comparison of fit times is then on identical input, to the value.
"""

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

ROWS = 18_000
NUMERIC = [
    "funding_rounds",
    "total_funding",
    "job_postings_30d",
    "employee_growth_pct",
    "industry_growth_rate",
    "regional_employment_trend",
    "funding_per_employee",
    "days_since_last_funding",
    "growth_momentum",
]


def features(frame: pd.DataFrame) -> np.ndarray:
    """``(n, 20)`` float32: 9 numeric columns, the funding date's year and month (standardised), 9 one-hot columns."""
    date = pd.to_datetime(frame["last_funding_date"])
    numeric = frame[NUMERIC].replace([np.inf, -np.inf], np.nan)
    numeric = numeric.assign(year=date.dt.year, month=date.dt.month)
    numeric = numeric.fillna(numeric.median())
    scaled = StandardScaler().fit_transform(numeric)
    onehot = pd.get_dummies(frame[["industry", "hiring_roles"]]).to_numpy(dtype=float)
    return np.hstack([scaled, onehot]).astype("float32")


def table(path) -> tuple[np.ndarray, np.ndarray]:
    """(X ``(18000, 20)``, y ``(18000,)``) from the challenge's train.csv, as the seed's script reads it."""
    frame = pd.read_csv(path).iloc[:ROWS]
    return features(frame), frame["is_hot_lead"].to_numpy()
