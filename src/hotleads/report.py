"""The model report: one self-contained HTML page a newcomer can read without help.

:func:`build_report` renders what a trained :class:`~hotleads.model.LeadModel` knows about
itself (its training evidence: out-of-fold or validation-split predictions, leaderboard, calibration, thresholds for
each objective, feature importance, the training data profile, discovered features) and, for
tables already scored (:class:`~hotleads.scoring.ScoredTable`), how the model does on a labelled
one and how each differs from the training data (drift). It computes no model output itself:
every score it shows was computed once, by training or by :func:`hotleads.scoring.score`. The page
opens offline: CSS is inline, figures are PNG images embedded as base64 ``data:`` URLs, there is
no script and no external link.

Figures use matplotlib's object-oriented API (``Figure`` + the Agg canvas), never ``pyplot``, so
building a report changes no global plotting settings and needs no display. Text in figures
(column and file names) is drawn with DejaVu Sans, matplotlib's own font (Latin, Greek, Cyrillic,
Arabic, Hebrew), falling back for the characters it lacks (Chinese, Japanese, Korean...) to
installed fonts that have them; ``make run`` and ``make test`` install Debian's WenQuanYi Micro Hei
(``tests/setup_fonts.sh``). A font installed after matplotlib cached its font list is added to
that list when a figure needs it. Characters no installed font has are drawn as boxes and
reported once per report, as a :class:`FontWarning`.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, precision_recall_curve, roc_curve

from . import __version__
from .exceptions import HotleadsWarning
from .features import DerivedFeature
from .io import atomic_path
from .metrics import classification_metrics
from .model import LeadModel, TrainingEvidence, percent
from .profile import drift
from .schema import blank_headers_named
from .scoring import ScoredTable, evaluate
from .threshold import sweep

MARKED_THRESHOLDS = (0.5, 0.3)
VALIDATION_TEXT = (
    "a share of the training companies set aside (train --validation): the models are fitted once on the rest, and the "
    "threshold, calibration and the figures here come from the set-aside companies, which no model saw."
)
MAX_CURVE_POINTS = 2000  # curves are thinned to this many points: same picture, small file
TOP_IMPORTANCE = 20
DPI = 96
OOF_COLOR, DATA_COLOR, SCORING_COLOR, UNCALIBRATED_COLOR = "#1f77b4", "#d62728", "#ff7f0e", "#7f7f7f"
CLASS_COLORS = {"not hot": "#1f77b4", "hot": "#d62728"}
SEVERITY_ORDER = {"major": 0, "moderate": 1, "none": 2}
TRAINING_WARNING_KINDS = {"leak": "possible target leak", "small-class": "few rows of one class", "degenerate": "degenerate model"}
GLYPH_WARNING = r"Glyph \d+ .*missing from"  # matplotlib's, once per character; hotleads says it once per report
NOT_A_FALLBACK = ("Last Resort",)  # matplotlib's placeholder font: it "has" every character, as a box showing its code
FONT_HINT = "on Debian or Ubuntu: apt-get install fonts-noto-core fonts-wqy-microhei"
MAX_NAMED = 5  # texts a warning names
MAX_LABEL = 40  # characters of a column or file name in a figure (the page's tables show names whole)


class FontWarning(HotleadsWarning):
    """No installed font has some characters of the report's figures (e.g. of column names): they show as boxes there."""


@dataclass
class Scored:
    """Predictions on one set of rows: labels (None when unlabelled), probabilities, a display name."""

    name: str
    proba: np.ndarray
    y: np.ndarray | None = None
    color: str = "#1f77b4"


@dataclass
class Checked:
    """A table the model was run on: its scores (and labels) and how it differs from training."""

    scored: Scored
    drift: list[dict] | None
    notes: list[str] = field(default_factory=list)  # the warnings met while reading and scoring it (ScoredTable.notes)


@dataclass
class ReportData:
    """Everything the page shows, computed once."""

    model: LeadModel
    oof: Scored
    tables: list[Checked]
    evaluation: dict | None = None  # scoring.evaluate on the labelled table

    @property
    def labelled(self) -> Scored | None:
        return next((t.scored for t in self.tables if t.scored.y is not None), None)


def build_report(model: LeadModel, data: ScoredTable | None = None, *, scoring: ScoredTable | None = None) -> str:
    """The report of ``model`` as one self-contained HTML page.

    Parameters
    ----------
    model : LeadModel
        A trained (or loaded) model.
    data : ScoredTable, optional
        A table the model scored (:func:`hotleads.scoring.score`), shown by its ``source`` name:
        when scored with labels it is evaluated (test metrics and curves); either way its columns
        are compared with the training data (drift).
    scoring : ScoredTable, optional
        A second scored table, typically the unlabelled one to be scored (``holdout.csv``), shown
        with its score distribution and drift beside ``data``.

    Returns
    -------
    str
        The HTML page.
    """
    shown = gather(model, data, scoring=scoring)
    with _one_font_warning():
        sections = [
            _summary_section(shown),
            _leaderboard_section(shown),
            _threshold_section(shown),
            _curves_section(shown),
            _calibration_section(shown),
            _importance_section(shown),
            _columns_section(shown),
            _data_section(shown),
            _discovery_section(shown),
            *([_search_section(shown)] if model.evidence.search else []),
            _glossary_section(shown),
        ]
    return _page(f"Hot-lead model report: {model.predictor.label}", sections)


def write_report(model: LeadModel, path: str | Path, data: ScoredTable | None = None, *, scoring: ScoredTable | None = None) -> Path:
    """Write :func:`build_report` to ``path`` atomically (a failure leaves any earlier file as it was)."""
    page = build_report(model, data, scoring=scoring)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return Path(path)


def gather(model: LeadModel, data: ScoredTable | None, *, scoring: ScoredTable | None = None) -> ReportData:
    """The training held-out output, the given scored tables with their drift, and the evaluation of a labelled ``data``."""
    evidence = model.evidence
    oof = Scored(f"{evidence.held_out} (training)", np.asarray(evidence.oof), np.asarray(evidence.y), OOF_COLOR)
    shown = ReportData(model=model, oof=oof, tables=[])
    for table, color in ((data, DATA_COLOR), (scoring, SCORING_COLOR)):
        if table is None:
            continue
        labels = table.y if table is data else None
        found = None if evidence.profile is None else drift(evidence.profile, table.features, model.predictor.schema)
        shown.tables.append(Checked(Scored(table.source, table.probability, labels, color), found, list(table.notes)))
        if labels is not None:
            shown.evaluation = evaluate(model, table)
    return shown


# ----------------------------------------------------------------------------- page and HTML helpers

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 1100px;
       padding: 1em 2em 4em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
.meta { color: #666; font-size: 0.9em; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th { background: #f3f3f3; } td.text, th.text { text-align: left; }
tr.final td { font-weight: bold; background: #f4f8ff; }
.box { border-left: 6px solid; padding: 0.6em 1em; margin: 1em 0; }
.warning { border-color: #d9822b; background: #fff6ec; } .ok { border-color: #3c9a5f; background: #f0faf3; }
.summary { border-color: #1f77b4; background: #f4f8ff; font-size: 1.05em; }
.note { color: #555; font-size: 0.92em; }
img { max-width: 100%; height: auto; display: block; margin: 0.5em 0; }
dt { font-weight: bold; margin-top: 0.5em; }
"""


def _page(title: str, sections: list[tuple[str, str, str]]) -> str:
    nav = " ".join(f'<a href="#{sid}">{_esc(heading)}</a>' for sid, heading, _ in sections)
    body = "\n".join(f'<section id="{sid}">\n<h2>{_esc(heading)}</h2>\n{content}\n</section>' for sid, heading, content in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f'<h1>{_esc(title)}</h1>\n<p class="meta">hotleads {_esc(__version__)}</p>\n<nav>{nav}</nav>\n{body}\n</body>\n</html>\n'
    )


def _esc(text: object) -> str:
    """``text`` as HTML; a column with a blank header named as messages name it (``column 5 (blank header)``, not ``Unnamed: 4``)."""
    return html.escape(blank_headers_named(str(text)), quote=True)


def _table(header: list[str], rows: list[list[object]], *, text_columns: int | set[int] = 1, row_classes: list[str] | None = None) -> str:
    """An HTML table; text columns (the first ``text_columns``, or those indices) left-aligned, numbers right-aligned."""
    text = set(range(text_columns)) if isinstance(text_columns, int) else text_columns

    def cell(tag: str, i: int, value: object) -> str:
        align = ' class="text"' if i in text else ""
        return f"<{tag}{align}>{_esc(value)}</{tag}>"

    head = "<tr>" + "".join(cell("th", i, h) for i, h in enumerate(header)) + "</tr>"
    classes = row_classes or [""] * len(rows)
    body = "".join(
        (f'<tr class="{c}">' if c else "<tr>") + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row, c in zip(rows, classes, strict=True)
    )
    return f"<table>{head}{body}</table>"


def _box(kind: str, html_content: str) -> str:
    return f'<div class="box {kind}">{html_content}</div>'


def _image(figure: Figure, alt: str) -> str:
    _add_fallback_fonts(figure)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", GLYPH_WARNING, UserWarning)  # _add_fallback_fonts has reported those characters
        FigureCanvasAgg(figure).print_png(buffer)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{_esc(alt)}" src="data:image/png;base64,{encoded}">'


def _f(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _pct(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.1f} %"


def _per100(share: float) -> str:
    return f"{100 * share:.0f}"


# ----------------------------------------------------------------------------- fonts of the figures

_UNSHOWN: ContextVar[set[str] | None] = ContextVar("unshown_figure_texts", default=None)


def _add_fallback_fonts(figure: Figure) -> None:
    """Give each text of ``figure`` that its font cannot draw the installed fonts that can (a fallback list).

    Texts with characters no installed font has are reported: once per report inside
    :func:`build_report`, else at once.
    """
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            axis.get_ticklabels()  # makes the tick labels (e.g. column names), which otherwise appear only when drawn
    lacking = {text: chars for text in figure.findobj(Text) if (chars := _lacking(text))}
    if not lacking:
        return
    families, unshown = fallback_fonts(frozenset().union(*lacking.values()))
    for text in lacking:
        text.set_fontfamily([*text.get_fontfamily(), *families])
    texts = {text.get_text().replace(r"\$", "$") for text, chars in lacking.items() if chars & unshown}  # as written (see _plain)
    if texts and (collected := _UNSHOWN.get()) is not None:
        collected.update(texts)
    elif texts:
        warnings.warn(_unshown_message(texts), FontWarning, stacklevel=3)


def _lacking(text: Text) -> frozenset[str]:
    """The characters of ``text`` that none of its fonts has."""
    chars = frozenset(c for c in text.get_text() if c.isprintable() and not c.isspace())
    for path in _font_files(text.get_fontproperties()):
        chars -= _covered(path, chars)
    return chars


def _font_files(prop: font_manager.FontProperties) -> list[str]:
    """The font file of each family in ``prop`` that is installed, as matplotlib picks them."""
    files = []
    for family in prop.get_family():
        one = prop.copy()
        one.set_family(family)
        try:
            files.append(font_manager.findfont(one, fallback_to_default=False))
        except ValueError:  # not installed; matplotlib skips it too
            continue
    return files


def fallback_fonts(chars: frozenset[str]) -> tuple[list[str], set[str]]:
    """Families of installed fonts that together have ``chars`` (the one with most of them first), and the characters none has.

    Fonts installed after matplotlib built its font cache are found too, and registered with it.
    """
    families, left = [], set(chars)
    while left:
        best, has = max(
            ((entry, _covered(entry.fname, frozenset(left))) for entry in _installed_fonts()), key=lambda found: len(found[1]), default=(None, frozenset())
        )
        if not has:
            break
        if best.fname not in {entry.fname for entry in font_manager.fontManager.ttflist}:
            font_manager.fontManager.addfont(best.fname)
        families.append(best.name)
        left -= has
    return families, left


@functools.cache
def _installed_fonts() -> tuple[font_manager.FontEntry, ...]:
    """The fonts matplotlib knows and those installed since its cache was built, upright ones first."""
    known = {entry.fname: entry for entry in font_manager.fontManager.ttflist}
    for path in font_manager.findSystemFonts():
        if path not in known:
            try:
                known[path] = font_manager.ttfFontProperty(FT2Font(path))
            except Exception:  # a file FreeType cannot read is no candidate (matplotlib's own font scan skips it the same way)
                continue
    fonts = [entry for entry in known.values() if not entry.name.startswith(NOT_A_FALLBACK)]
    return tuple(sorted(fonts, key=lambda entry: (entry.style != "normal", entry.stretch != "normal", entry.name)))


@functools.cache
def _covered(path: str, chars: frozenset[str]) -> frozenset[str]:
    """Those of ``chars`` that the font in ``path`` has a glyph for (the first face of a collection, as matplotlib uses)."""
    try:
        font = FT2Font(path)
    except (OSError, RuntimeError):  # gone or unreadable since the font list was made
        return frozenset()
    return frozenset(c for c in chars if font.get_char_index(ord(c)))


@contextmanager
def _one_font_warning() -> Iterator[None]:
    """Collect the figure texts no installed font can draw while a report is built, and warn once about all of them."""
    token = _UNSHOWN.set(set())
    try:
        yield
        texts = _UNSHOWN.get()
    finally:
        _UNSHOWN.reset(token)
    if texts:
        warnings.warn(_unshown_message(texts), FontWarning, stacklevel=4)


def _unshown_message(texts: set[str]) -> str:
    ordered = sorted(texts, key=lambda text: (len(text), text))  # the names themselves before labels made of them
    shown = ", ".join(f"'{text}'" for text in ordered[:MAX_NAMED]) + (f" and {len(texts) - MAX_NAMED} more" if len(texts) > MAX_NAMED else "")
    return (
        f"report: no installed font has some characters of {shown}; the figures show them as boxes (the page's text "
        f"shows them as they are). Install a font that has them ({FONT_HINT}) and write the report again."
    )


# ----------------------------------------------------------------------------- sections


def _summary_section(ev: ReportData) -> tuple[str, str, str]:
    model, oof = ev.model, ev.model.oof_metrics()
    predictor = model.predictor
    lines = [
        f"This model (<b>{_esc(predictor.label)}</b>) gives each company a score from 0 to 1, the chance that it is a "
        f"hot lead, and calls it <b>hot</b> when the score is at least <b>{_f(predictor.threshold.value, 3)}</b>.",
        f"{_checked_on(model.evidence)}, it <b>finds {_per100(oof['recall'])} of every 100 hot leads</b>; "
        f"of the companies it calls hot, <b>{_per100(oof['precision'])} in 100 are hot leads</b> (F1 {_f(oof['f1'])}).",
    ]
    if ev.evaluation is not None:
        test = ev.evaluation["metrics"]
        lines.append(
            f"On <b>{_esc(ev.labelled.name)}</b> ({test['rows']:,} labelled companies it never saw) it finds {_per100(test['recall'])} "
            f"of every 100 hot leads, and {_per100(test['precision'])} in 100 of those it calls hot are hot (F1 {_f(test['f1'])})."
        )
        if notes := _labelled_notes(ev):
            lines.append(f'<b>Warning:</b> reading {_esc(ev.labelled.name)} gave {len(notes)} warning(s) (see <a href="#leaderboard">Leaderboard</a>).')
    lines.append(_calibration_sentence(model))
    lines.extend(_drift_sentence(table) for table in ev.tables if table.drift is not None)
    return "summary", "Summary", _box("summary", "".join(f"<p>{line}</p>" for line in lines)) + _training_warnings(model)


def _checked_on(evidence: TrainingEvidence) -> str:
    """What the model learnt from and which companies its training figures were checked on, in words."""
    y, rows = evidence.y, evidence.training.get("rows", len(evidence.y))
    hot = f"{_pct(float(np.mean(y)))} of them hot leads"
    if evidence.validation is None:
        return f"It learnt from {rows:,} companies, {hot}. Checked on those same companies, each scored by a model that had not seen it (out-of-fold)"
    return (
        f"It learnt from {rows - len(y):,} companies. Checked on the other {len(y):,} ({hot}), the validation split "
        f"({percent(evidence.validation)} of the training table) that it had not seen"
    )


def _training_warnings(model: LeadModel) -> str:
    """What training warned about (a possible leak, a tiny class, a model that learnt nothing), in a warning box."""
    found = model.evidence.training.get("warnings") or []
    if not found:
        return ""
    items = "".join(
        f"<li><b>{_esc(TRAINING_WARNING_KINDS.get(w['kind'], w['kind']))}</b>"
        + (f" (column {_esc(w['column'])})" if w.get("column") and w["column"] not in w["message"] else "")
        + f": {_esc(w['message'])}</li>"
        for w in found
    )
    return _box("warning", f"<p><b>Training warned about {len(found)} thing(s)</b>; check them before trusting the scores:</p><ul>{items}</ul>")


def _calibration_sentence(model: LeadModel) -> str:
    calibration = model.evidence.calibration
    if not model.predictor.calibrated:
        return "Scores are not calibrated: rank companies by them, but read them as rough chances only."
    return (
        f"Scores are calibrated ({_esc(model.predictor.calibrator.method)}): a score of 0.7 means about 70 % of such companies are hot "
        f"leads (Brier score {_f(calibration['brier_uncalibrated'])} before, {_f(calibration['brier_calibrated'])} after; lower is better)."
    )


def _drift_sentence(table: Checked) -> str:
    drifted = [d["column"] for d in table.drift if d["severity"] != "none"]
    if not drifted:
        return f'The columns of {_esc(table.scored.name)} look like the training data (see <a href="#data">Data</a>).'
    return (
        f"<b>Warning:</b> {len(drifted)} column(s) of {_esc(table.scored.name)} differ from the training data "
        f'({_esc(", ".join(drifted))}); scores there may be less reliable (see <a href="#data">Data</a>).'
    )


def _leaderboard_section(ev: ReportData) -> tuple[str, str, str]:
    predictor = ev.model.predictor
    parts = [
        f"<p>Every model trained, scored on {_scored_on(ev.model.evidence)}, "
        "each at its own best-F1 threshold; the row in bold is the model that scores new companies, at its chosen threshold.</p>",
        _board_table(ev.model.evidence.leaderboard, fit_seconds=True),
    ]
    if predictor.label != predictor.name:
        parts.append(
            f'<p class="note">{_esc(predictor.label)}: the same model with its scores rescaled so that they '
            'read as chances (see <a href="#calibration">Calibration</a>).</p>'
        )
    parts.extend(f'<p class="note">{_esc(line)}</p>' for line in _how_chosen(ev.model.evidence))
    if ev.evaluation is not None:
        parts.append(
            f"<p>On <b>{_esc(ev.labelled.name)}</b> ({ev.evaluation['metrics']['rows']:,} labelled companies), each model at the threshold "
            "chosen on the training data:</p>" + _board_table(ev.evaluation["leaderboard"], fit_seconds=False)
        )
        parts.append(_reading_notes(ev))
    return "leaderboard", "Leaderboard", "\n".join(parts)


def _labelled_notes(ev: ReportData) -> list[str]:
    return next((t.notes for t in ev.tables if t.scored.y is not None), [])


def _reading_notes(ev: ReportData) -> str:
    """The warnings met while reading and scoring the labelled table (a label counted as 0, rows left out), in a warning box: they qualify its metrics."""
    notes = _labelled_notes(ev)
    if not notes:
        return ""
    items = "".join(f"<li>{_esc(note)}</li>" for note in notes)
    return _box(
        "warning",
        f"<p><b>Reading {_esc(ev.labelled.name)} gave {len(notes)} warning(s)</b>; the test metrics above count its rows as they say:</p><ul>{items}</ul>",
    )


def _how_chosen(evidence: TrainingEvidence) -> list[str]:
    """How the saved models were chosen and built, in sentences: --models auto, bagging, --time-limit."""
    from .selection import Selection

    lines = [Selection.from_dict(evidence.selection).reason()] if evidence.selection else []
    if evidence.bagged:
        lines.append(f"Each model scores as the average of its {evidence.folds} fold models: the very models whose out-of-fold predictions are shown here.")
    if spent := evidence.training.get("time_limit"):
        steps = "; ".join(f"{step['step']}: {step['status']}" for step in spent["steps"]) or "nothing more"
        lines.append(f"--time-limit {spent['limit']:g} s (training took {spent['spent']:.0f} s): beyond the cheap models it tried {steps}.")
    if timed := evidence.training.get("time_ordered"):
        periods, metrics = timed["periods"], timed["metrics"]
        members = ", ".join(f"{name} {f1:.4f}" for name, f1 in timed["members"].items())
        lines.append(
            f"Time-ordered by '{timed['column']}': {len(periods)} periods from {periods[0]['from']} to {periods[-1]['to']} ({timed['rows']:,} companies), "
            f"each scored by models trained on the periods before it. F1 {metrics['f1']:.4f} and PR-AUC {metrics['pr_auc']:.4f} there "
            f"(each model at its best: {members}), against F1 {evidence.thresholds['f1']['f1']:.4f} out of fold above; the threshold was chosen "
            "on the time-ordered predictions, as the model will score leads that come after its training data."
        )
    return lines


def _scored_on(evidence: TrainingEvidence) -> str:
    if evidence.validation is None:
        return "the training companies out-of-fold (each company by a model fitted without it)"
    return f"the {_esc(evidence.held_out_title)}: training companies set aside before fitting, which no model saw"


def _board_table(board: list[dict], *, fit_seconds: bool) -> str:
    """A leaderboard (:func:`hotleads.metrics.leaderboard` rows), the final row in bold."""
    header = ["model", "F1", "threshold", "precision", "recall", "PR-AUC", "ROC-AUC", "F1 at 0.5"] + (["fit seconds"] if fit_seconds else ["accuracy"])
    rows = [
        [
            r["model"],
            _f(r["f1"]),
            _f(r["threshold"], 3),
            _f(r["precision"]),
            _f(r["recall"]),
            _f(r["pr_auc"]),
            _f(r["roc_auc"]),
            _f(r["f1_at_0_5"]),
            f"{r['fit_seconds']:.1f}" if fit_seconds else _f(r["accuracy"]),
        ]
        for r in board
    ]
    return _table(header, rows, row_classes=["final" if r["final"] else "" for r in board])


def _threshold_section(ev: ReportData) -> tuple[str, str, str]:
    model, threshold, held_out = ev.model, ev.model.predictor.threshold, ev.model.evidence.held_out
    oof = model.oof_metrics()
    at = {t: classification_metrics(model.evidence.y, model.evidence.oof, t) for t in MARKED_THRESHOLDS}
    parts = [
        f"<p>The chosen threshold is <b>{_f(threshold.value, 3)}</b> because {_esc(threshold.reason())}. A company scoring at least "
        "this is called hot. A lower threshold finds more hot leads but calls more companies hot that are not.</p>",
        f"<p>{held_out.capitalize()} F1 at the chosen threshold: <b>{_f(oof['f1'])}</b>; at 0.5: {_f(at[0.5]['f1'])}; at 0.3: {_f(at[0.3]['f1'])}.</p>",
    ]
    if model.evidence.thresholds:
        parts.append(f"<p>What other goals would choose (on the same {held_out} predictions):</p>" + _objectives_table(model))
    return "threshold", "Threshold", "\n".join(parts)


OBJECTIVE_TEXT = {
    "f1": "best balance of finding hot leads and not calling cold ones hot",
    "precision": "find as many hot leads as possible while at least {pct} of the companies called hot are hot (few wasted calls)",
    "recall": "find at least {pct} of the hot leads, with as few companies called hot that are not",
}


def _objectives_table(model: LeadModel) -> str:
    rows, classes = [], []
    for name, found in model.evidence.thresholds.items():
        metric, _, floor = name.partition(">=")
        meaning = OBJECTIVE_TEXT.get(metric, name).format(pct=_pct(float(floor)) if floor else "")
        if not found["attainable"]:
            rows.append([name, meaning, "not reachable", "", "", ""])
        else:
            rows.append([name, meaning, _f(found["threshold"], 3), _f(found["precision"]), _f(found["recall"]), _f(found["f1"])])
        classes.append("final" if model.predictor.threshold.chose(name) else "")
    return _table(["objective", "meaning", "threshold", "precision", "recall", "F1"], rows, text_columns=2, row_classes=classes)


def _labelled_sets(ev: ReportData) -> list[Scored]:
    return [ev.oof] if ev.labelled is None else [ev.oof, ev.labelled]


def _curves_section(ev: ReportData) -> tuple[str, str, str]:
    sets = _labelled_sets(ev)
    threshold = ev.model.predictor.threshold.value
    confusions = {s.name: classification_metrics(s.y, s.proba, threshold)["confusion"] for s in sets}
    parts = [
        "<p>How well the scores separate hot leads from the rest, whatever the threshold: the closer the curves come to "
        "the top-right (precision-recall) and top-left (ROC) corners, the better.</p>",
        _image(pr_roc_figure(sets), "precision-recall and ROC curves"),
        "<p>F1, precision and recall if the threshold were moved, with the chosen threshold, 0.5 and 0.3 marked.</p>",
        _image(threshold_figure(sets, threshold), "F1, precision and recall against the threshold"),
        f"<p>Confusion matrix at the chosen threshold {_f(threshold, 3)}: how many companies were called hot or not, against what they really were.</p>",
        _image(confusion_figure(confusions), "confusion matrix"),
        "<p>Scores of hot leads and of the other companies: the less the two overlap, the better the model tells them apart.</p>",
        _image(score_distribution_figure(_distribution_sets(ev), threshold), "score distribution per class"),
    ]
    return "curves", "Curves", "\n".join(parts)


def _distribution_sets(ev: ReportData) -> list[Scored]:
    return [ev.oof, *(table.scored for table in ev.tables)]


def _calibration_section(ev: ReportData) -> tuple[str, str, str]:
    model, held_out = ev.model, ev.model.evidence.held_out
    calibration = model.evidence.calibration
    text = (
        f"<p>Calibration asks: of the companies scored about 0.7, are about 70 % hot leads? Points on the diagonal mean yes. {_calibration_sentence(model)}</p>"
    )
    candidates = calibration.get("candidates") or {}
    if candidates:
        rows = [[method, _f(brier)] for method, brier in candidates.items() if method != "none"]
        rows.append(["none (raw scores)", _f(calibration.get("brier_uncalibrated"))])
        text += f"<p>{held_out.capitalize()} Brier score of each calibration tried (the lowest is used):</p>" + _table(["method", "Brier score"], rows)
    calibrated = model.predictor.calibrated
    nested = model.evidence.oof_nested  # each fold calibrated by a calibrator fitted on the others: honest
    after = ev.oof.proba if nested is None else np.asarray(nested)
    curves = [Scored(f"{held_out}, calibrated" if calibrated else held_out, after, ev.oof.y, OOF_COLOR)]
    if calibrated:
        curves.insert(0, Scored(f"{held_out}, before calibration", np.asarray(model.evidence.oof_uncalibrated), ev.oof.y, UNCALIBRATED_COLOR))
    if ev.labelled is not None:
        curves.append(ev.labelled)
    return "calibration", "Calibration", text + _image(calibration_figure(curves), "calibration (reliability) curve")


def _importance_section(ev: ReportData) -> tuple[str, str, str]:
    importance = ev.model.evidence.importance
    if not importance or not importance.get("values"):
        return "importance", "Feature importance", "<p>This model was saved without feature importance.</p>"
    text = (
        f"<p>Which columns move the scores most, over all training companies ({_esc(importance['method'])}); a longer bar "
        "means the column changes scores more, up or down.</p>"
    )
    return "importance", "Feature importance", text + _image(importance_figure(importance["values"]), "global feature importance")


def _columns_section(ev: ReportData) -> tuple[str, str, str]:
    rows = ev.model.predictor.schema.rows()
    used = sum(row["role"] in ("numeric", "categorical", "date") for row in rows)
    text = (
        f"<p>The {len(rows)} columns of the training table and how the model reads them: {used} feed the model, the id "
        "names the companies, the target is what it learns to predict, and ignored columns are not used (the note says why).</p>"
    )
    header = ["column", "role", "how values are read", "missing in training", "note"]
    table = _table(header, [[r["column"], r["role"], r["parse"], _missing(r["missing"]), r["reason"]] for r in rows], text_columns={0, 1, 2, 4})
    return "columns", "Columns", text + _history_text(ev.model) + table


def _history_text(model: LeadModel) -> str:
    """What the model reads of a monthly history, if it was trained with one."""
    spec, trained = model.predictor.history, model.evidence.training.get("history", {})
    if spec is None:
        return ""
    readers = [name for name, estimator in model.predictor.members.items() if getattr(estimator, "reads_sequences", False)]
    sequence = f" {', '.join(readers)} also read{'s' if len(readers) == 1 else ''} the months themselves." if readers else ""
    return (
        f"<p>Monthly history ({_esc(trained.get('path', 'a history table'))}): {_esc(', '.join(spec.channels))}, the last {spec.months} months "
        f"up to {_esc(spec.as_of)} per company, joined on '{_esc(spec.id_column)}'. Each channel is summarised per company (the "
        f"<code>CHANNEL__STAT</code> columns below: latest month, mean, trend, largest rise, last 3 months over the 3 before, months since "
        f"last non-zero).{sequence}</p>"
    )


def _missing(share: float | None) -> str:
    return "" if share is None else _pct(share)


def _data_section(ev: ReportData) -> tuple[str, str, str]:
    profile = ev.model.evidence.profile
    parts = []
    if profile is None:
        parts.append("<p>This model was saved without a profile of its training data.</p>")
    else:
        rate = "" if profile.get("positive_rate") is None else f", {_pct(profile['positive_rate'])} of them hot leads"
        parts.append(f"<p>The training data: {profile['rows']:,} companies{rate}. Per column:</p>")
        parts.append(_profile_table(profile))
    parts.extend(_drift_html(table, ev.model.predictor.threshold.value) for table in ev.tables)
    return "data", "Data", "\n".join(parts)


def _profile_table(profile: dict) -> str:
    header = ["column", "role", "missing", "infinite", "min", "median", "max", "whole numbers", "values"]
    rows = [
        [name, p["role"], f"{p['missing']:,}", _infinite(p), *_range(p), _pct(p.get("integral_share")) if p["role"] == "numeric" else "", _values_text(p)]
        for name, p in profile["columns"].items()
    ]
    return _table(header, rows, text_columns={0, 1, len(header) - 1}) + (
        '<p class="note">"whole numbers": share of values without decimals. "values": most frequent categories, or the date range.</p>'
    )


def _infinite(p: dict) -> str:
    return f"{p['pos_inf'] + p['neg_inf']:,}" if p["role"] != "categorical" else ""


def _range(p: dict) -> list[str]:
    if p["role"] != "numeric":
        return ["", "", ""]
    return [_num(p["min"]), _num(p["quantiles"]["p50"]), _num(p["max"])]


def _values_text(p: dict) -> str:
    if p["role"] == "date":
        return f"{p['first']} to {p['last']}"
    if p["role"] == "categorical":
        total = max(p["rows"] - p["missing"], 1)
        shown = ", ".join(f"{name} {_pct(count / total)}" for name, count in list(p["top"].items())[:5])
        return shown + (f" ({p['distinct']} in all)" if p["distinct"] > 5 else "")
    return ""


def _num(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _drift_html(table: Checked, threshold: float) -> str:
    scored = table.scored
    rows_text = f"<p><b>{_esc(scored.name)}</b>: {len(scored.proba):,} companies"
    if scored.y is not None:
        rows_text += f", {_pct(float(np.mean(scored.y)))} of them hot leads"
    rows_text += f"; {_pct(float(np.mean(scored.proba >= threshold)))} are called hot.</p>"
    if table.drift is None:
        return rows_text + "<p>No training profile to compare it with.</p>"
    drifted = [d for d in table.drift if d["severity"] != "none"]
    if drifted:
        items = "".join(f"<li>{_esc(d['message'])}</li>" for d in sorted(drifted, key=lambda d: (SEVERITY_ORDER[d["severity"]], -d["psi"])))
        box = _box(
            "warning",
            f"<p><b>This data differs from what the model learnt from</b> in {len(drifted)} column(s). "
            f"Scores may be less reliable; check how the data was produced.</p><ul>{items}</ul>",
        )
    else:
        box = _box("ok", "<p>This data looks like the training data: no column has shifted.</p>")
    return (
        rows_text
        + box
        + _drift_table(table.drift)
        + (
            '<p class="note">PSI (population stability index) compares the share of values in each training decile (or '
            "category): below 0.1 no shift, 0.1 to 0.25 moderate, above 0.25 major. Two samples of the same data differ a little "
            'by chance, more so when small; that part ("PSI by chance") is subtracted before judging.</p>'
        )
    )


def _drift_table(results: list[dict]) -> str:
    header = ["column", "severity", "PSI", "PSI by chance", "whole numbers (training / here)", "missing (training / here)", "outside training range"]
    rows = [
        [
            d["column"],
            d["severity"],
            _f(d["psi"], 3),
            _f(d["psi_noise"], 3),
            _pair(d.get("integral_train"), d.get("integral_scored")) if d["role"] == "numeric" else "",
            _pair(d["missing_train"], d["missing_scored"]),
            _pct(d["outside_range"]) if "outside_range" in d else "",
        ]
        for d in results
    ]
    return _table(header, rows, text_columns=2)


def _pair(train: float | None, scored: float | None) -> str:
    return "" if train is None and scored is None else f"{_pct(train)} / {_pct(scored)}"


def _search_section(ev: ReportData) -> tuple[str, str, str]:
    """What ``hotleads tune`` tried for each model, what won, and which parameters mattered."""
    parts = [
        "<p>The parameters of this model were chosen by <code>hotleads tune</code>: each trial was cross-fitted on the same "
        "folds as training and scored out-of-fold; a share of the rows was set aside, never searched, and the tuned and default "
        "configurations were each scored there. The tuned one is used only if it won there.</p>"
    ]
    for name, found in ev.model.evidence.search.items():
        holdout, trials = found["holdout"], found["trials"]
        pruned = sum(t["state"] == "pruned" for t in trials)
        parts.append(
            f"<p><b>{_esc(name)}</b>: {len(trials)} trials ({pruned} stopped early by the pruner), study <code>{_esc(found['study'])}</code>. "
            f"On the {holdout['rows']:,} set-aside rows: default F1 {_f(holdout['default_f1'])}, tuned F1 {_f(holdout['tuned_f1'])}; "
            f"<b>{'tuned' if holdout['chosen'] == 'tuned' else 'default'}</b> kept.</p>"
        )
        parts.append(_image(search_figure(trials, found["best_so_far"], name), f"objective by trial, {name}"))
        if found.get("importance"):
            rows = [[param, _pct(share)] for param, share in found["importance"].items()]
            parts.append(
                "<p>Which parameters mattered (Optuna's fANOVA importance, share of the objective's variance):</p>" + _table(["parameter", "importance"], rows)
            )
        if found.get("best"):
            rows = [[param, _value(value)] for param, value in found["best"]["params"].items()]
            parts.append(
                f"<p>Best trial (number {found['best']['number']}, out-of-fold {_f(found['best']['value'])}):</p>" + _table(["parameter", "value"], rows)
            )
    return "search", "Hyper-parameter search", "\n".join(parts)


def _value(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _discovery_section(ev: ReportData) -> tuple[str, str, str]:
    found = ev.model.evidence.discovery
    if not found:
        return "discovery", "Discovered features", "<p>Feature discovery was off (--features raw): the model uses the columns as they are.</p>"
    parts = [
        "<p>Relations found between columns (a column that is, nearly exactly, a formula of others):</p>",
        _table(
            ["relation", "R\u00b2", "exact", "whole numbers"],
            [[r["relation"], _f(r["r2"]), "yes" if r["pure_function"] else "no", _pct(r["integral_share"])] for r in found["relations"]],
        )
        if found["relations"]
        else "<p>None.</p>",
        "<p>Derived features kept because they raise the out-of-fold F1 of a quick model "
        f"(F1 {_f(found['baseline_oof_f1'])} without them, {_f(found['final_oof_f1'])} with them):</p>",
        _feature_list(found["kept"]),
        f'<p class="note">{len(found["rejected"])} other candidate(s) were tried and rejected.</p>',
    ]
    return "discovery", "Discovered features", "\n".join(parts)


def _feature_list(features: list[dict]) -> str:
    if not features:
        return "<p>None.</p>"
    rows = [[f["name"], _formula(f), _f(f["evidence"].get("oof_gain"))] for f in features]
    return _table(["feature", "formula", "F1 gain"], rows, text_columns=2)


def _formula(feature: dict) -> str:
    return DerivedFeature.from_dict(feature).formula()


def _glossary_section(ev: ReportData) -> tuple[str, str, str]:
    terms = {
        "hot lead": "a company about to need HR services (the target column is 1).",
        "score": "the model's chance, 0 to 1, that a company is a hot lead (the lead score is the same times 100).",
        "threshold": "companies scoring at least this are called hot.",
        "precision": "of the companies called hot, the share that really are.",
        "recall": "of the real hot leads, the share the model calls hot.",
        "F1": "one number balancing precision and recall (their harmonic mean); 1 is perfect.",
        "PR-AUC, ROC-AUC": "how well the scores rank hot leads above the others, over all thresholds; 1 is perfect.",
        "out-of-fold": "the training companies split into folds; each fold scored by a model fitted on the others, so "
        "every company gets a score from a model that never saw it.",
        **({"validation split": VALIDATION_TEXT} if ev.model.evidence.validation is not None else {}),
        "Brier score": "mean squared difference between score and outcome (0 or 1); lower is better.",
        "PSI": "population stability index: how much a column's distribution moved since training.",
    }
    items = "".join(f"<dt>{_esc(term)}</dt><dd>{_esc(meaning)}</dd>" for term, meaning in terms.items())
    return "glossary", "Words used here", f"<dl>{items}</dl>"


# ----------------------------------------------------------------------------- figures (one helper each)


def _figure(width: float, height: float, panels: int = 1) -> tuple[Figure, list]:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return figure, list(np.atleast_1d(figure.subplots(1, panels)))


def _plain(text: str) -> str:
    """``text`` (a column or file name) as a figure shows it: '$' a dollar sign, not the start of matplotlib's math,
    and at most ``MAX_LABEL`` characters, both ends kept (a longer label would squeeze the plot away); a blank header as :func:`_esc` names it."""
    text = blank_headers_named(text)
    if len(text) > MAX_LABEL:
        head = (MAX_LABEL - 1) // 2
        text = f"{text[:head]}\u2026{text[head + 1 - MAX_LABEL :]}"
    return text.replace("$", r"\$")


def _thin(*arrays: np.ndarray) -> list[np.ndarray]:
    """Every k-th point (and the last), so a curve over a million rows plots as ~MAX_CURVE_POINTS."""
    n = len(arrays[0])
    if n <= MAX_CURVE_POINTS:
        return list(arrays)
    keep = np.unique(np.r_[np.linspace(0, n - 1, MAX_CURVE_POINTS).astype(int), n - 1])
    return [a[keep] for a in arrays]


def pr_roc_figure(sets: list[Scored]) -> Figure:
    """Precision-recall and ROC curves of each labelled set."""
    figure, (pr_ax, roc_ax) = _figure(10, 4.2, 2)
    for s in sets:
        precision, recall, _ = precision_recall_curve(s.y, s.proba)
        pr_ax.plot(*_thin(recall, precision), color=s.color, label=_plain(s.name), drawstyle="steps-post")
        fpr, tpr, _ = roc_curve(s.y, s.proba)
        roc_ax.plot(*_thin(fpr, tpr), color=s.color, label=_plain(s.name))
    pr_ax.axhline(float(np.mean(sets[0].y)), color="#999", linestyle=":", label="random guess")
    roc_ax.plot([0, 1], [0, 1], color="#999", linestyle=":", label="random guess")
    pr_ax.set(
        xlabel="recall (share of hot leads found)", ylabel="precision (share of called-hot that are hot)", title="Precision-recall", xlim=(0, 1), ylim=(0, 1.02)
    )
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate (recall)", title="ROC", xlim=(0, 1), ylim=(0, 1.02))
    pr_ax.legend(loc="lower left", fontsize=8)
    roc_ax.legend(loc="lower right", fontsize=8)
    return figure


def threshold_figure(sets: list[Scored], threshold: float) -> Figure:
    """F1, precision and recall against the threshold (solid: first set, dashed: second), chosen, 0.5 and 0.3 marked."""
    figure, (ax,) = _figure(8, 4.4)
    grid = np.linspace(0, 1, 401)
    for s, style in zip(sets, ("-", "--"), strict=False):  # one or two sets
        curve = sweep(s.y, s.proba, grid)
        for key, color in (("f1", "#000"), ("precision", "#2ca02c"), ("recall", "#9467bd")):
            ax.plot(grid, curve[key], color=color, linestyle=style, label=f"{'F1' if key == 'f1' else key}, {_plain(s.name)}")
    ax.axvline(threshold, color="#d62728", linewidth=2, label=f"chosen {threshold:.3f}")
    for marked, style in zip(MARKED_THRESHOLDS, ("-.", ":"), strict=True):
        ax.axvline(marked, color="#555", linestyle=style, label=f"{marked}")
    ax.set(xlabel="threshold (called hot when score >= threshold)", ylabel="value", title="Moving the threshold", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="lower left", fontsize=8)
    return figure


def confusion_figure(confusions: dict[str, dict]) -> Figure:
    """One 2x2 count matrix per set: rows the truth, columns the call."""
    figure, axes = _figure(4.2 * len(confusions), 3.8, len(confusions))
    for ax, (name, c) in zip(axes, confusions.items(), strict=True):
        counts = np.array([[c["tn"], c["fp"]], [c["fn"], c["tp"]]])
        ax.imshow(counts, cmap="Blues")
        for (row, col), count in np.ndenumerate(counts):
            dark = count > counts.max() / 2
            ax.text(col, row, f"{count:,}", ha="center", va="center", color="white" if dark else "black", fontsize=12)
        ax.set_xticks([0, 1], ["called not hot", "called hot"])
        ax.set_yticks([0, 1], ["not hot", "hot lead"])
        ax.set(title=_plain(name), ylabel="really")
    return figure


def calibration_figure(sets: list[Scored]) -> Figure:
    """Reliability curve of each set (mean score against share of hot leads, score deciles), Brier in the legend."""
    figure, (ax,) = _figure(6, 5)
    ax.plot([0, 1], [0, 1], color="#999", linestyle=":", label="perfectly calibrated")
    for s in sets:
        proba = np.clip(s.proba, 0, 1)
        observed, predicted = calibration_curve(s.y, proba, n_bins=10, strategy="quantile")
        ax.plot(predicted, observed, marker="o", color=s.color, label=f"{_plain(s.name)} (Brier {brier_score_loss(s.y, proba):.4f})")
    ax.set(xlabel="mean score", ylabel="share that are hot leads", title="Calibration", xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="upper left", fontsize=8)
    return figure


def score_distribution_figure(sets: list[Scored], threshold: float) -> Figure:
    """Histogram of scores per class (or of all rows when unlabelled), one panel per set."""
    figure, axes = _figure(5 * len(sets), 3.8, len(sets))
    bins = np.linspace(0, 1, 41)
    for ax, s in zip(axes, sets, strict=True):
        if s.y is None:
            ax.hist(s.proba, bins=bins, color="#888", label="all companies")
        else:
            for label, name in ((0, "not hot"), (1, "hot")):
                ax.hist(s.proba[s.y == label], bins=bins, alpha=0.6, color=CLASS_COLORS[name], label=name, density=True)
        ax.axvline(threshold, color="#000", linestyle="--", label=f"threshold {threshold:.3f}")
        ax.set(xlabel="score", ylabel="density" if s.y is not None else "companies", title=_plain(s.name), xlim=(0, 1))
        ax.legend(fontsize=8)
    return figure


def search_figure(trials: list[dict], best_so_far: list[float | None], name: str) -> Figure:
    """Each finished trial's objective (pruned trials at their last reported fold are not shown) and the best so far."""
    figure, (ax,) = _figure(8, 3.8)
    done = [(t["number"], t["value"]) for t in trials if t["state"] == "complete"]
    if done:
        ax.scatter(*zip(*done, strict=True), color=OOF_COLOR, s=14, label="trial (out-of-fold)")
    pruned = [t["number"] for t in trials if t["state"] == "pruned"]
    for number in pruned:
        ax.axvline(number, color="#ddd", linewidth=1)
    kept = [(t["number"], best) for t, best in zip(trials, best_so_far, strict=True) if best is not None]
    if kept:
        ax.step(*zip(*kept, strict=True), where="post", color="#d62728", label="best so far")
    ax.set(xlabel="trial (grey lines: stopped early)", ylabel="objective", title=f"Search: {_plain(name)}")
    ax.legend(loc="lower right", fontsize=8)
    return figure


def importance_figure(values: dict[str, float]) -> Figure:
    """Horizontal bars of the ``TOP_IMPORTANCE`` largest importances, largest on top."""
    top = sorted(values.items(), key=lambda item: -abs(item[1]))[:TOP_IMPORTANCE][::-1]
    figure, (ax,) = _figure(8, 0.3 * len(top) + 1.2)
    ax.barh(range(len(top)), [value for _, value in top], color=OOF_COLOR)
    ax.set_yticks(range(len(top)), [_plain(name) for name, _ in top])  # by position: two names may shorten alike
    ax.set(xlabel="importance (mean size of the column's effect on the score)", title="Global feature importance")
    return figure
