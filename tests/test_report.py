"""Tests of the HTML report (hotleads.report): content, numbers, self-containment, and a real browser.

The browser test opens the written page in Debian's headless ``chromium`` (installed by
``tests/setup_chromium.sh``) and fails on any console message: the page has no script, so any
message at all (an error, an uncaught exception, a log) means something is wrong. That the check
can fail is itself tested on deliberately broken pages. Without chromium those tests skip.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import html
import re
import shutil
import subprocess
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text

from hotleads import registry, report
from hotleads.bundle import load, save
from hotleads.discovery import Discovery, candidate_features, find_relations
from hotleads.estimators import GBDTClassifier
from hotleads.io import read_table
from hotleads.model import LeadModel
from hotleads.report import FontWarning, build_report, fallback_fonts, importance_figure, write_report
from hotleads.schema import prepare
from hotleads.scoring import evaluate, score
from hotleads.training import TrainOptions, train

SECTIONS = ("summary", "leaderboard", "threshold", "curves", "calibration", "importance", "columns", "data", "discovery", "glossary")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (tests/setup_chromium.sh installs Debian's package where apt-get can)")


@pytest.fixture(scope="module")
def small_gbdt():
    """Registry "gbdt" with 30 trees: the report needs a model, not a good one."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(registry.MODELS, "gbdt", functools.partial(GBDTClassifier, n_estimators=30))
        yield


@pytest.fixture(scope="module")
def model(dataset: Path, small_gbdt) -> LeadModel:
    """gbdt and logreg, mean ensemble, 3 folds; with what feature discovery reports, without its cost.

    Discovery's OOF selection fits dozens of LightGBM models (seconds); the report only shows its
    findings, so the relations are found for real and the first candidate is recorded as kept.
    """
    frame = read_table(dataset / "train.csv")
    model = train(frame, TrainOptions(models=["gbdt", "logreg"], folds=3, features="raw"), source="train.csv")
    base = model.predictor.preprocessor.base_frame(prepare(frame, model.predictor.schema, labelled=False).features)
    relations = find_relations(base)
    candidates = candidate_features(base, relations)
    candidates[0].evidence["oof_gain"] = 0.0123
    model.evidence.discovery = Discovery(
        [r.evidence | {"feature": r.name, "formula": r.formula()} for r in relations], candidates[:1], candidates[1:], 0.7, 0.71
    ).to_dict()
    return model


@pytest.fixture(scope="module")
def test_table(model: LeadModel, test_frame: pd.DataFrame):
    """test.csv scored once, with its labels."""
    return score(model.predictor, test_frame, source="test.csv", labelled=True)


@pytest.fixture(scope="module")
def page(model: LeadModel, test_table) -> str:
    """The report with labelled data: test metrics, and no drift (same distribution as training)."""
    return build_report(model, test_table)


@pytest.fixture(scope="module")
def holdout_report(model: LeadModel, test_frame: pd.DataFrame, holdout_frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """As `hotleads run` writes it: labelled test.csv, and the holdout to score (clean integers where training is noisy)."""
    path = tmp_path_factory.mktemp("report") / "report.html"
    holdout = score(model.predictor, holdout_frame, source="holdout.csv")
    return write_report(model, path, score(model.predictor, test_frame, source="test.csv", labelled=True), scoring=holdout)


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


def section(page: str, sid: str) -> str:
    match = re.search(rf'<section id="{sid}">(.*?)</section>', page, re.S)
    assert match, f"no section {sid}"
    return match.group(1)


def test_every_section_is_present_and_linked(page: str) -> None:
    elements = Elements(page)
    assert [attrs["id"] for attrs in elements.all("section")] == list(SECTIONS)
    assert [attrs["href"] for attrs in elements.all("a")][: len(SECTIONS)] == [f"#{sid}" for sid in SECTIONS]
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def test_summary_states_recall_and_precision_in_plain_words(model: LeadModel, page: str) -> None:
    oof = model.oof_metrics()
    summary = section(page, "summary")
    assert f"finds {100 * oof['recall']:.0f} of every 100 hot leads" in summary
    assert f"{100 * oof['precision']:.0f} in 100 are hot leads" in summary
    assert f"at least <b>{model.predictor.threshold.value:.3f}</b>" in summary
    assert f"F1 {oof['f1']:.4f}" in summary


def test_leaderboard_matches_the_model_and_evaluate(model: LeadModel, test_table, page: str) -> None:
    board = section(page, "leaderboard")
    for row in model.evidence.leaderboard:  # what `hotleads run` writes to metrics.json ("leaderboard", "oof")
        cells = [row["model"], f"{row['f1']:.4f}", f"{row['threshold']:.3f}", f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['pr_auc']:.4f}"]
        assert "</td><td>".join(cells) in board.replace('<td class="text">', "<td>"), row
    test = evaluate(model, test_table)  # metrics.json "test"
    assert f"{test['metrics']['f1']:.4f}" in board
    for name, metrics in test["members"].items():
        assert f'<td class="text">{name}</td><td>{metrics["f1"]:.4f}</td>' in board
    assert f"{test['metrics']['rows']:,} labelled companies" in board


def test_threshold_section_explains_the_choice_and_other_objectives(model: LeadModel, page: str) -> None:
    text = section(page, "threshold")
    assert f"The chosen threshold is <b>{model.predictor.threshold.value:.3f}</b> because it gives the highest F1" in text
    assert {"f1", "precision>=0.9", "recall>=0.8"} <= set(model.evidence.thresholds)
    for name, found in model.evidence.thresholds.items():
        assert f"{name.replace('>', '&gt;')}</td>" in text
        if found["attainable"]:
            assert f"{found['threshold']:.3f}" in text
    assert "at 0.5:" in text and "at 0.3:" in text


def test_calibration_shows_brier_before_and_after(model: LeadModel, page: str) -> None:
    text = section(page, "calibration")
    calibration = model.evidence.calibration
    assert f"{calibration['brier_uncalibrated']:.4f}" in text and f"{calibration['brier_calibrated']:.4f}" in text
    for brier in calibration["candidates"].values():
        assert f"{brier:.4f}" in text


def test_every_image_is_an_inline_png(page: str) -> None:
    images = Elements(page).all("img")
    assert len(images) == 6  # PR/ROC, threshold, confusion, score distribution, calibration, importance
    for attrs in images:
        assert attrs["alt"]
        prefix = "data:image/png;base64,"
        assert attrs["src"].startswith(prefix)
        assert base64.b64decode(attrs["src"][len(prefix) :], validate=True).startswith(b"\x89PNG\r\n\x1a\n")


def test_nothing_is_fetched_from_outside(page: str) -> None:
    elements = Elements(page)
    for tag, attrs in elements.tags:
        for name, value in attrs.items():
            assert not re.match(r"\s*(https?:|//|ftp:)", value or "", re.I), (tag, name, value)
    assert not {tag for tag, _ in elements.tags} & {"script", "link", "iframe", "object", "embed"}
    assert "url(" not in page and "@import" not in page


def test_drift_warns_on_the_holdout_whole_numbers_only(holdout_report: Path, page: str) -> None:
    both = holdout_report.read_text(encoding="utf-8")
    data = section(both, "data")
    test_part, holdout_part = data.split("<b>holdout.csv</b>: 300 companies;")  # unlabelled: no positive rate
    assert '<div class="box ok">' in test_part and "box warning" not in test_part  # same distribution as training
    assert '<div class="box warning">' in holdout_part
    for column in ("funding_rounds", "job_postings_30d"):
        assert f"{column}: values are whole numbers here (100 % of values) but not in training" in holdout_part
    summary = section(both, "summary")
    assert "The columns of test.csv look like the training data" in summary
    assert "Warning:</b> 2 column(s) of holdout.csv differ from the training data (funding_rounds, job_postings_30d)" in summary
    assert section(both, "leaderboard") == section(page, "leaderboard")  # test metrics from the labelled table only
    assert section(both, "curves").count("<img") == section(page, "curves").count("<img")


def test_training_profile_and_discovery_are_described(model: LeadModel, page: str) -> None:
    data = section(page, "data")
    assert f"The training data: {model.evidence.profile['rows']:,} companies, {100 * model.evidence.profile['positive_rate']:.1f} % of them hot leads" in data
    for column in model.predictor.schema.features:
        assert f'<td class="text">{column}</td>' in data
    discovery = section(page, "discovery")
    for relation in model.evidence.discovery["relations"]:
        assert relation["relation"] in discovery
    assert model.evidence.discovery["relations"] and model.evidence.discovery["kept"]
    for feature in model.evidence.discovery["kept"]:
        assert feature["name"] in discovery
    assert "(F1 0.7000 without them, 0.7100 with them)" in discovery and "0.0123" in discovery


def test_a_loaded_bundle_gives_the_same_report(model: LeadModel, test_frame: pd.DataFrame, page: str, tmp_path: Path) -> None:
    loaded = load(save(model, tmp_path / "model"))
    rescored = score(loaded.predictor, test_frame, source="test.csv", labelled=True)
    assert build_report(loaded, rescored) == page  # everything the report shows survives the bundle


def test_single_model_with_a_user_threshold_and_no_data(dataset: Path, small_gbdt) -> None:
    frame = read_table(dataset / "train.csv")
    model = train(frame, TrainOptions(models=["gbdt"], folds=3, threshold=0.3, features="raw", calibration="none"), source="train.csv")
    text = build_report(model)
    assert [a["id"] for a in Elements(text).all("section")] == list(SECTIONS)
    assert len(Elements(text).all("img")) == 6
    assert "The chosen threshold is <b>0.300</b> because it was set by hand" in text
    assert "Feature discovery was off" in text and "Scores are not calibrated" in text
    assert "box warning" not in text and "labelled companies" not in text and "box ok" not in text


def test_write_report_replaces_the_file_only_on_success(
    model: LeadModel, holdout_report: Path, holdout_frame: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = Path(shutil.copy(holdout_report, tmp_path / "report.html"))
    monkeypatch.setattr(report, "_glossary_section", lambda shown: 1 / 0)  # the last section fails, after the page was half built
    with pytest.raises(ZeroDivisionError):
        write_report(model, path, score(model.predictor, holdout_frame, source="holdout.csv"))
    assert path.read_bytes() == holdout_report.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left


def test_columns_section_lists_every_training_column(model: LeadModel, dataset: Path, page: str) -> None:
    text = section(page, "columns")
    rows = model.predictor.schema.rows()
    assert sorted(row["column"] for row in rows) == sorted(read_table(dataset / "train.csv").columns)  # every column, none cut
    assert text.count("<tr>") == len(rows) + 1  # and the header
    for row in rows:
        missing = "" if row["missing"] is None else f"{100 * row['missing']:.1f} %"
        cells = [row["column"], row["role"], row["parse"], missing, row["reason"]]
        assert "".join(f'<td class="text">{html.escape(c)}</td>' if i != 3 else f"<td>{c}</td>" for i, c in enumerate(cells)) in text, row


def test_training_warnings_are_shown_at_the_top(model: LeadModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        model.evidence.training,
        "warnings",
        [
            {"kind": "leak", "column": "deal_<won>", "message": "'deal_<won>' alone predicts the target (ROC-AUC 1.00)"},
            {"kind": "small-class", "column": None, "message": "only 12 hot leads"},
            {"kind": "degenerate", "column": "industry", "message": "the model gives every company the same score"},
        ],
    )
    summary = section(build_report(model), "summary")
    box = summary[summary.index('<div class="box warning">') :]
    assert "Training warned about 3 thing(s)" in box
    assert "<li><b>possible target leak</b>: &#x27;deal_&lt;won&gt;&#x27; alone predicts the target (ROC-AUC 1.00)</li>" in box
    assert "<li><b>few rows of one class</b>: only 12 hot leads</li>" in box
    assert "<li><b>degenerate model</b> (column industry): the model gives every company the same score</li>" in box
    monkeypatch.setitem(model.evidence.training, "warnings", [])
    assert "box warning" not in section(build_report(model), "summary")


def test_the_labelled_tables_reading_warnings_are_shown_with_its_metrics(model: LeadModel, test_table) -> None:
    noted = dataclasses.replace(test_table, notes=["test.csv: target 'is_hot_lead' has value(s) the training table did not have: 'Warm <b>' (7 rows)"])
    page = build_report(model, noted)
    board = section(page, "leaderboard")
    box = board[board.index('<div class="box warning">') :]
    assert "Reading test.csv gave 1 warning(s)" in box
    assert "<li>test.csv: target &#x27;is_hot_lead&#x27; has value(s) the training table did not have: &#x27;Warm &lt;b&gt;&#x27; (7 rows)</li>" in box
    assert "reading test.csv gave 1 warning(s)" in section(page, "summary")
    assert "box warning" not in section(build_report(model, test_table), "leaderboard")  # none met: no box


# ----------------------------------------------------------------------------- names in other scripts

NAMES = {
    "total_funding": "выручка",
    "industry_growth_rate": "增长率",
    "job_postings_30d": "Ωmega",
    "funding_rounds": "الإيرادات",
    "employee_growth_pct": "매출 $^$ <b>&",
}  # "$^$" is broken matplotlib math unless drawn as plain text


@pytest.fixture(scope="module")
def named_model(dataset: Path, small_gbdt) -> LeadModel:
    """A model of a table whose columns are named in Cyrillic, Chinese, Greek, Arabic and Korean."""
    frame = read_table(dataset / "train.csv").rename(columns=NAMES)
    return train(frame, TrainOptions(models=["gbdt"], folds=3, features="raw", calibration="none"), source="train.csv")


def drawn_with(text: Text) -> list[FT2Font]:
    """The fonts matplotlib draws ``text`` with: one per family of its fallback list that is installed."""
    fonts = []
    for family in text.get_fontfamily():
        prop = text.get_fontproperties().copy()
        prop.set_family(family)
        try:
            fonts.append(FT2Font(font_manager.findfont(prop, fallback_to_default=False)))
        except ValueError:
            continue
    return fonts


def test_names_in_other_scripts_are_drawn_in_the_figures(named_model: LeadModel, test_frame: pd.DataFrame) -> None:
    if fallback_fonts(frozenset("增매"))[1]:
        pytest.skip("no installed font has Chinese and Korean characters (tests/setup_fonts.sh installs fonts-wqy-microhei)")
    renamed = score(named_model.predictor, test_frame.rename(columns=NAMES), source="данные 数据.csv", labelled=True)
    page = build_report(named_model, renamed)  # no warning at all
    for name in NAMES.values():
        assert f'<td class="text">{html.escape(name)}</td>' in section(page, "columns")
    figure = importance_figure(named_model.evidence.importance["values"])
    report._image(figure, "importance")
    labels = {text.get_text().replace(r"\$", "$"): text for text in figure.findobj(Text)}
    for name in NAMES.values():
        fonts = drawn_with(labels[name])
        assert all(any(font.get_char_index(ord(c)) for font in fonts) for c in name if not c.isspace()), (name, [f.family_name for f in fonts])


def test_long_names_are_shortened_in_the_figures(model: LeadModel) -> None:
    """Long column and file names squeezed the plots away (matplotlib's "axes sizes collapsed" warning)."""
    twins = {f"{'revenue_of_the_last_quarter_' * 3}{k}{'_in_thousands_of_dollars' * 3}": float(k) for k in (1, 2)}  # alike, shortened
    figure = importance_figure(twins)
    report._image(figure, "importance")  # no warning
    assert len(figure.axes[0].patches) == 2
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert len(set(labels)) == 1 and len(labels[0]) == report.MAX_LABEL and "\u2026" in labels[0]
    confusion = model.oof_metrics()["confusion"]
    path = "/home/someone/exports/from_the_crm_system/2024/quarterly/final/test_table_final_v2.csv"
    report._image(report.confusion_figure({"out-of-fold (training)": confusion, path: confusion}), "confusion matrix")  # no warning


def test_characters_no_font_has_give_one_hotleads_warning(named_model: LeadModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "_installed_fonts", lambda: ())  # a machine without a CJK font
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        page = build_report(named_model)
    assert [w.category for w in caught] == [FontWarning], [str(w.message) for w in caught]
    message = str(caught[0].message)
    assert "'增长率', '매출 $^$ <b>&'; the figures show them as boxes" in message
    assert "выручка" not in message and "Ωmega" not in message and "الإيرادات" not in message  # DejaVu Sans has those
    assert "fonts-wqy-microhei" in message
    assert len(Elements(page).all("img")) == 6


# ----------------------------------------------------------------------------- headless chromium

PROBE = """<script>
window.addEventListener("load", () => {
  const broken = [...document.images].filter((img) => !img.complete || img.naturalWidth === 0);
  broken.forEach((img) => console.error("broken image: " + img.alt));
  console.info("probe: " + document.images.length + " images, " + broken.length + " broken");
});
</script>"""


def open_in_chromium(path: Path, profile_dir: Path) -> tuple[str, list[str]]:
    """Load ``path`` in headless chromium: (the DOM after loading, every console message)."""
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={profile_dir}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # e.g. [123:123:1126/110333.992269:INFO:CONSOLE:1] "message", source: file:///... (1)
    messages = re.findall(r':CONSOLE[^\]]*\] "(.*)", source: ', result.stderr)
    return result.stdout, messages


@needs_chromium
def test_console_check_catches_errors_and_broken_images(tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text(
        '<!DOCTYPE html><html><body><img alt="empty" src="data:image/png;base64,AAAA">'
        '<script>console.error("deliberate error"); null.boom;</script>' + PROBE + "</body></html>"
    )
    _, messages = open_in_chromium(broken, tmp_path / "profile")
    assert "deliberate error" in messages
    assert any(m.startswith("Uncaught TypeError") for m in messages)
    assert "broken image: empty" in messages and "probe: 1 images, 1 broken" in messages


@needs_chromium
def test_report_renders_in_chromium_without_console_messages(holdout_report: Path, tmp_path: Path) -> None:
    path = holdout_report
    dom, messages = open_in_chromium(path, tmp_path / "profile")
    assert messages == []
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in dom
    assert dom.count('<img alt="') == 6 and "This data differs from what the model learnt from" in dom
    probed = tmp_path / "probed.html"  # the same page with a script that reports images the browser cannot draw
    probed.write_text(path.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    _, messages = open_in_chromium(probed, tmp_path / "profile")
    assert messages == ["probe: 6 images, 0 broken"]


def test_a_blank_header_column_is_named_in_the_report_as_messages_name_it() -> None:
    """Formulas, tables and figure labels say ``column 5 (blank header)``, not the readers' ``Unnamed: 4``."""
    table = report._table(["relation"], [["Unnamed: 4 ~ 0.96 * (growth_momentum / job_postings_30d)"]])
    assert "column 5 (blank header) ~ 0.96 * (growth_momentum / job_postings_30d)" in table and "Unnamed" not in table
    figure = importance_figure({"Unnamed: 4": 1.0, "job_postings_30d": 0.5})
    assert [label.get_text() for label in figure.axes[0].get_yticklabels()] == ["job_postings_30d", "column 5 (blank header)"]
