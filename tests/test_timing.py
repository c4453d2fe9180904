"""Tests of the stage timings (hotleads.timing)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from hotleads.timing import record, stage


def test_stages_outside_a_record_cost_nothing_and_record_nothing() -> None:
    with stage("read"):
        pass
    with record() as timings:
        pass
    assert list(timings.stages) == ["other"]


def test_time_is_exclusive_and_adds_up_to_the_wall_time() -> None:
    with record() as timings:
        with stage("read"):
            time.sleep(0.05)
            with stage("typing"):
                time.sleep(0.1)
        with stage("read"):
            time.sleep(0.05)
    read, typing = timings.stages["read"], timings.stages["typing"]
    assert read.calls == 2 and typing.calls == 1
    assert 0.1 <= read.seconds < 0.15 and 0.1 <= typing.seconds < 0.15  # typing's time is not read's too
    assert sum(s.seconds for s in timings.stages.values()) == pytest.approx(timings.wall, abs=0.005)  # "other" holds the glue


def test_a_stage_reports_its_own_peak_memory() -> None:
    with record() as timings:
        with stage("typing"):
            big = np.ones(40_000_000)  # 305 MiB, touched
            del big
        with stage("fitting"):
            small = np.ones(1_000)
            del small
    typing, fitting = timings.stages["typing"].peak_rss, timings.stages["fitting"].peak_rss
    assert typing - fitting > 250 * 2**20  # the kernel's high-water mark was reset between them


def test_rows_give_each_stage_its_share() -> None:
    with record() as timings:
        with stage("scoring"):
            time.sleep(0.02)
    rows = {row["stage"]: row for row in timings.rows()}
    assert set(rows) == {"other", "scoring"} and rows["scoring"]["share"] > 0.5
