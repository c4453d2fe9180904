"""Scoring a table: every table is scored once, into a :class:`ScoredTable` that everything reads.

The lead list, ``submission.csv``, ``evaluate``'s metrics, the report's curves and drift all read
the same :class:`ScoredTable`; none of them predicts again. Only a :class:`~hotleads.model.Predictor`
is needed (what a scoring service or a cluster worker loads); :func:`evaluate` also reads the
training evidence, for each member's own out-of-fold threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .exceptions import ParameterError
from .explain import contributions, reasons
from .features import from_source
from .io import write_csv, write_table
from .metrics import classification_metrics, leaderboard
from .model import LeadModel, Predictor
from .schema import Schema, has_blank_header, is_name_column, prepare
from .timing import stage

TIER_HELP = "hot: at or above the decision threshold; warm: at least half of it; cold: below that."


@dataclass
class ScoredTable:
    """One scored table.

    ``leads`` has one row per company, in the table's order: ``Id``, ``name`` (when the table has
    a company-name column), the calibrated ``probability``, ``lead_score`` 0-100, ``rank`` (1 =
    best), ``tier``, ``prediction`` and, when explained, ``reason_1..3``. ``raw`` is the final
    score before calibration, ``member_probas`` each member's probability, ``y`` the labels of a
    labelled table (else None), ``features`` its validated feature columns (drift reads them) and
    ``matrix`` those features as the members read them. ``notes`` holds the warnings met while
    reading and scoring the table (labels counted as 0 or left out, a skipped title): the report
    shows them beside the table's metrics, which they qualify.
    """

    source: str
    leads: pd.DataFrame
    raw: np.ndarray
    member_probas: dict[str, np.ndarray]
    y: np.ndarray | None
    features: pd.DataFrame
    matrix: np.ndarray  # (n_rows, n_model_features): the preprocessed features the members read (explanations reuse it)
    notes: list[str] = field(default_factory=list)

    @property
    def probability(self) -> np.ndarray:
        """Calibrated hot-lead probability, shape (n_rows,)."""
        return self.leads["probability"].to_numpy(dtype=float)

    def submission(self) -> pd.DataFrame:
        """``Id,Prediction`` in the table's order (the challenge's submission format)."""
        return submission(self.leads)

    def lead_list(self, schema: Schema) -> pd.DataFrame:
        """Every column of ``leads``, best first, the id column under its name in the table (:func:`id_header`)."""
        return lead_list(self.leads, schema)


def submission(leads: pd.DataFrame) -> pd.DataFrame:
    """``Id,Prediction`` of lead rows (``ScoredTable.leads`` or some of its rows), in their order."""
    return leads[["Id", "prediction"]].rename(columns={"prediction": "Prediction"})


def lead_list(leads: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Lead rows best first (by ``rank``), the id column under its name in the table (:func:`id_header`)."""
    return leads.sort_values("rank").rename(columns={"Id": id_header(schema)})


def id_header(schema: Schema) -> str:
    """The lead list's header over the ids: the id column's header in the table, else ``Id`` as in ``submission.csv``.

    ``Id`` also when the id column's header cell was blank: the readers' ``Unnamed: 0`` is in no
    file, and a header ``column 1 (blank header)`` would be none a lead list is imported by.

    Examples
    --------
    >>> id_header(Schema(target="won", id="account")), id_header(Schema(target="won", id="Unnamed: 0")), id_header(Schema(target="won", id=None))
    ('account', 'Id', 'Id')
    """
    return "Id" if schema.id is None or has_blank_header(schema.id) else schema.id


def score(
    predictor: Predictor,
    frame: pd.DataFrame,
    *,
    source: str = "table",
    labelled: bool | None = False,
    top_k: int | None = None,
    explain: bool | int = False,
    sequences: np.ndarray | None = None,
) -> ScoredTable:
    """Score a company table once: probabilities, lead scores, ranks, tiers, labels and (optionally) reasons.

    Parameters
    ----------
    predictor : Predictor
        ``model.predictor`` of a trained or loaded model.
    frame : DataFrame
        The table as :func:`~hotleads.io.read_table` reads it; n_rows rows.
    source : str
        The table's name in messages (its path).
    labelled : bool or None
        Read the target column too (``evaluate``, the report); None: when the table has it.
    top_k : int, optional
        Label exactly the ``top_k`` best-ranked rows 1 (a team's calling capacity) instead of
        those at or above the threshold.
    explain : bool or int
        ``True`` adds ``reason_1..3`` (see :mod:`hotleads.explain`) to every row; ``N`` only to
        the N best-ranked (explaining costs about one prediction per column).
    sequences : ndarray of shape (n_rows, T, C), optional
        Each row's monthly window (:func:`hotleads.history.with_history`), for a model trained with a history.

    Raises
    ------
    DataError
        The table lacks columns the model needs, or has values it cannot read.
    ParameterError
        ``top_k`` is below 1.
    """
    if top_k is not None and top_k < 1:
        raise ParameterError(f"--top-k must be a positive number of companies; got {top_k}.")
    if labelled is None:
        labelled = predictor.schema.target in frame.columns
    with stage("typing"):
        prepared = prepare(frame, predictor.schema, source=source, labelled=labelled)
    with stage("preprocessing"), from_source(source):
        matrix = predictor.preprocessor.transform(prepared.features)
    if sequences is not None and prepared.rows is not None:
        sequences = sequences[prepared.rows]
    with stage("scoring"):
        member_probas = predictor.member_probas(matrix, sequences)
        raw = predictor.combine(member_probas)
        proba = predictor.calibrator.transform(raw)
        rank = ranks(proba, raw)
    threshold = predictor.threshold.value
    leads = pd.DataFrame(
        {
            "Id": prepared.ids.to_numpy(),
            **_names(frame, predictor.schema, prepared.rows),
            "probability": proba,
            "lead_score": np.rint(proba * 100).astype(int),
            "rank": rank,
            "tier": tiers(proba, threshold),
            "prediction": (rank <= top_k if top_k is not None else proba >= threshold).astype(int),
        }
    )
    with stage("explanations"):
        leads = _explained(leads, predictor, prepared.features, matrix, rank, explain, sequences)
    return ScoredTable(source, leads, raw, member_probas, prepared.y, prepared.features, matrix)


def _explained(
    leads: pd.DataFrame, predictor: Predictor, features: pd.DataFrame, matrix: np.ndarray, rank: np.ndarray, explain: bool | int, sequences: np.ndarray | None
) -> pd.DataFrame:
    """``leads`` with ``reason_1..3`` for every row (``explain=True``), the ``explain`` best-ranked, or none."""
    if explain is True:
        contrib = contributions(predictor, features, matrix=matrix, sequences=sequences)
        return pd.concat([leads, reasons(predictor, features, contrib).reset_index(drop=True)], axis=1)
    if not explain:
        return leads
    best = np.flatnonzero(rank <= explain)
    contrib = contributions(predictor, features.iloc[best], matrix=matrix[best], sequences=None if sequences is None else sequences[best])
    explained = reasons(predictor, features.iloc[best], contrib).set_axis(best)
    return leads.join(explained).fillna({column: "" for column in explained.columns})


def _names(frame: pd.DataFrame, schema: Schema, rows: np.ndarray | None) -> dict[str, np.ndarray]:
    name = find_name_column(frame, schema)
    if name is None:
        return {}
    names = frame[name].to_numpy()
    return {"name": names if rows is None else names[rows]}


def tiers(proba: np.ndarray, threshold: float) -> np.ndarray:
    """hot / warm / cold by calibrated probability (cut-offs in :data:`TIER_HELP`).

    Examples
    --------
    >>> tiers(np.array([0.9, 0.4, 0.1]), 0.6).tolist()
    ['hot', 'warm', 'cold']
    """
    return np.select([proba >= threshold, proba >= threshold / 2], ["hot", "warm"], "cold")


def ranks(proba: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Rank of each row, 1 = best, shape (n_rows,): by calibrated probability, then raw score, then table order.

    Examples
    --------
    >>> ranks(np.array([0.5, 0.9, 0.5]), np.array([0.4, 0.8, 0.45])).tolist()
    [3, 1, 2]
    """
    order = np.lexsort((-raw, -proba))  # calibration makes steps; the raw score orders within one
    rank = np.empty(len(proba), dtype=np.int64)
    rank[order] = np.arange(1, len(proba) + 1)
    return rank


def find_name_column(frame: pd.DataFrame, schema: Schema) -> str | None:
    """A company-name column the schema does not use as a feature (e.g. ``company_name``), if any."""
    for column in frame.columns:
        if is_name_column(column) and column not in (*schema.features, schema.id, schema.target):
            return column
    return None


def evaluate(model: LeadModel, scored: ScoredTable) -> dict:
    """Metrics of a labelled scored table: the final predictor at its threshold, each member at its own OOF threshold.

    Returns
    -------
    dict
        ``source``; ``final`` (the final predictor's name); ``metrics`` (its
        :func:`~hotleads.metrics.classification_metrics`); ``members`` (each member's);
        ``leaderboard`` (:func:`~hotleads.metrics.leaderboard` of the same rows, the table the
        command line and the report show).

    Raises
    ------
    ParameterError
        ``scored`` was scored without labels.
    """
    if scored.y is None:
        raise ParameterError(f"{scored.source}: scored without labels; score it with labelled=True to evaluate.")
    predictor, evidence = model.predictor, model.evidence
    members = {name: (proba, evidence.member_threshold(name)) for name, proba in scored.member_probas.items()}
    board = leaderboard(scored.y, members, (predictor.label, scored.probability, predictor.threshold.value))
    return {
        "source": scored.source,
        "final": predictor.name,
        "metrics": classification_metrics(scored.y, scored.probability, predictor.threshold.value),
        "members": {name: classification_metrics(scored.y, proba, threshold) for name, (proba, threshold) in members.items()},
        "leaderboard": board,
    }


def write_submission(scored: ScoredTable, path: str | Path) -> Path:
    """Write ``Id,Prediction`` (:meth:`ScoredTable.submission`) to ``path`` as CSV, atomically."""
    return write_csv(scored.submission(), path)


def write_lead_list(scored: ScoredTable, schema: Schema, path: str | Path) -> Path:
    """Write the ranked lead list (:meth:`ScoredTable.lead_list`), CSV or Excel by ``path``'s suffix, atomically."""
    return write_table(scored.lead_list(schema), path)
