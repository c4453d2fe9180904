"""Load test of the scoring service (``hotleads serve``) on loopback: issue 13's figures.

    .venv/bin/python bench/serve_load.py --data ../shared/data/hr-leads/train.csv [--requests 1000] [--seconds 30]

Trains a gbdt model and a gbdt + logreg ensemble (``--ensemble`` mean, the default) with the CLI on
``--data``, then for each model and 1 and 2 workers starts ``hotleads serve`` on a free loopback port
and measures from this process with httpx, one keep-alive connection per client thread:

- one company per request with reasons: p50/p95/p99 ms of ``requests`` sequential requests after a
  50-request warm-up (target: p99 under 25 ms for gbdt on 2 cores); with 2 workers also 2 and 4
  concurrent clients, with requests per second;
- the same one company per request with ``?reasons=false``, and ``GET /healthz`` (what HTTP itself costs);
- batches of 100 and 10,000 companies, with and without reasons: companies per second from the
  median request (one client per worker, so that every worker is busy);
- memory: VmRSS of each worker process (the uvicorn master's children with ``--workers 2``) once
  every worker has started, and VmRSS and VmHWM (the peak) after the load.

Every loop stops at its request count or after ``seconds``, whichever comes first. Request bodies are
the data file's rows without the target column, numbers as JSON numbers and empty cells as null (the
columns' types from ``GET /v1/model``). Each request carries an ``X-Request-ID``, so the service's own
milliseconds (its access log) stand beside the client's, and each phase records the CPU seconds of
every server process and of this client: client and server share the machine's cores.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HOTLEADS = ROOT / ".venv" / "bin" / "hotleads"
MODELS = ("gbdt", "gbdt,logreg")  # one model and one ensemble (mean)
WORKERS = (1, 2)
CONCURRENT_CLIENTS = (2, 4)  # with 2 workers, beside the sequential client
BATCH_SIZES = (100, 10_000)
BATCH_REPEATS = 5  # requests per client and batch size; companies/s from their median
WARMUP = 50
HEALTHZ_REQUESTS = 200
P99_TARGET_MS = 25.0  # issue 13: one company per request, gbdt, with reasons, 2 cores
MAX_ROWS = 10_000
MAX_BODY = "50MB"
TARGET = "is_hot_lead"
START_TIMEOUT = 180.0  # seconds for every worker to load the model and answer /readyz
STOP_TIMEOUT = 30.0
REQUESTS, SECONDS = 1000, 30.0  # each phase: at most this many requests or seconds (p99 of ~1,000 latencies)
_ACCESS = re.compile(r"request_id=(\S+) method=\S+ path=\S+ rows=\S+ status=(\d+) ms=([\d.]+)")
_CLOCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------- the section


def serve_section(
    workdir: Path,
    data: Path,
    *,
    requests: int = REQUESTS,
    seconds: float = SECONDS,
    models: tuple[str, ...] = MODELS,
    workers: tuple[int, ...] = WORKERS,
    batch_sizes: tuple[int, ...] = BATCH_SIZES,
    batch_repeats: int = BATCH_REPEATS,
    target: str = TARGET,
) -> dict:
    """Train each of ``models`` on ``data`` with the CLI, serve it with each of ``workers``, and measure latency,
    throughput and memory (see the module's docstring). Every phase ends after ``requests`` requests or ``seconds``."""
    folder = Path(workdir) / "serve-load"
    folder.mkdir(parents=True, exist_ok=True)
    runs = []
    for members in models:
        model_dir = folder / f"model-{members.replace(',', '+')}"
        started = time.perf_counter()
        _hotleads("train", str(data), "--out", str(model_dir), "--models", members, "--quiet")
        train_seconds = time.perf_counter() - started
        for count in workers:
            print(f"... serve {members} --workers {count}", file=sys.stderr, flush=True)
            run = serve_run(model_dir, data, folder / f"serve-{members.replace(',', '+')}-{count}.log", workers=count, requests=requests,
                            seconds=seconds, batch_sizes=batch_sizes, batch_repeats=batch_repeats, target=target)  # fmt: skip
            runs.append({"members": members, "train_seconds": train_seconds, **run})
    return {
        "data": str(data),
        "requests": requests,
        "seconds": seconds,
        "warmup": WARMUP,
        "batch_repeats": batch_repeats,
        "p99_target_ms": P99_TARGET_MS,
        "cores": len(os.sched_getaffinity(0)),
        "runs": runs,
    }


def serve_run(model_dir: Path, data: Path, log: Path, *, workers: int, requests: int, seconds: float, batch_sizes, batch_repeats: int, target: str) -> dict:
    """One ``hotleads serve`` of ``model_dir`` with ``workers`` processes: every phase, its memory, then its access log's times."""
    server = Server(model_dir, log, workers)
    try:
        server.start()
        info = httpx.get(f"{server.url}/v1/model", timeout=30).json()
        companies = companies_from_table(data, info["columns"], target=target, rows=max(max(batch_sizes, default=0), requests + WARMUP))
        singles = [json.dumps([company]).encode() for company in companies[: requests + WARMUP]]
        at_rest = server.memory()
        phases = []
        _phase(server, "warm-up", singles, clients=1, limit=WARMUP, seconds=seconds)  # not reported
        phases.append(_phase(server, "healthz", None, clients=1, limit=min(requests, HEALTHZ_REQUESTS), seconds=seconds))
        for reasons in (True, False):
            for clients in (1, *(CONCURRENT_CLIENTS if workers > 1 else ())):
                phases.append(_phase(server, "single", singles, clients=clients, limit=requests, seconds=seconds, reasons=reasons))
        for size in batch_sizes:
            body = json.dumps(batch(companies, size, info["id_column"])).encode()
            for reasons in (True, False):
                phases.append(_phase(server, "batch", [body], clients=workers, limit=batch_repeats * workers, seconds=seconds, reasons=reasons, rows=size))
        loaded = server.memory()
    finally:
        code = server.stop()
    served = access_log(log)
    for phase in phases:
        ms = np.array(served.get(phase["tag"], []), dtype=float)
        phase["server_p50_ms"], phase["server_p99_ms"] = (float(np.percentile(ms, 50)), float(np.percentile(ms, 99))) if len(ms) else (None, None)
    return {
        "model": info["label"],
        "name": info["name"],
        "workers": workers,
        "start_seconds": server.start_seconds,
        "exit_code": code,
        "memory": [{**rest, **{f"{key}_loaded": after[key] for key in ("rss_mb", "hwm_mb") if key in after}} for rest, after in _pair(at_rest, loaded)],
        "phases": phases,
    }


def _pair(at_rest: list[dict], loaded: list[dict]) -> list[tuple[dict, dict]]:
    """Each process's memory at rest and after the load (by pid; a worker uvicorn restarted has no pair)."""
    after = {m["pid"]: m for m in loaded}
    return [(m, after.get(m["pid"], {})) for m in at_rest]


# ---------------------------------------------------------------------------------- the server


class Server:
    """``hotleads serve MODEL --workers N`` on a free loopback port, its log in a file."""

    def __init__(self, model_dir: Path, log: Path, workers: int) -> None:
        self.model_dir, self.log, self.workers = model_dir, log, workers
        self.process: subprocess.Popen | None = None
        self.worker_pids: list[int] = []
        self.start_seconds: float | None = None

    def start(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        command = [str(HOTLEADS), "serve", str(self.model_dir), "--port", str(port), "--workers", str(self.workers),
                   "--max-rows", str(MAX_ROWS), "--max-body", MAX_BODY]  # fmt: skip
        started = time.perf_counter()
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        self._wait_ready(started + START_TIMEOUT)
        self.start_seconds = time.perf_counter() - started

    def _wait_ready(self, deadline: float) -> None:
        """Until /readyz answers and every worker has logged its start-up (with 2 workers, /readyz is one worker's answer)."""
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"hotleads serve exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                ready = httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                ready = False
            self.worker_pids = [self.process.pid] if self.workers == 1 else _children(self.process.pid)
            if ready and self.log.read_text(errors="replace").count("Application startup complete") >= self.workers and len(self.worker_pids) >= self.workers:
                return
            time.sleep(0.1)
        raise SystemExit(f"hotleads serve was not ready in {START_TIMEOUT:.0f} s:\n{self.log.read_text()[-3000:]}")

    def processes(self) -> list[tuple[str, int]]:
        """(role, pid) of the processes that hold a model: the server itself, or its workers and their master."""
        if self.workers == 1:
            return [("server", self.process.pid)]
        return [("master", self.process.pid), *((f"worker {i + 1}", pid) for i, pid in enumerate(self.worker_pids))]

    def memory(self) -> list[dict]:
        """VmRSS and VmHWM (MB) of each process of :meth:`processes` still alive."""
        rows = []
        for role, pid in self.processes():
            status = _proc_status(pid)
            if status:
                rows.append({"process": role, "pid": pid, "rss_mb": status.get("VmRSS", 0) / 1024, "hwm_mb": status.get("VmHWM", 0) / 1024})
        return rows

    def cpu_seconds(self) -> list[float]:
        """User + system CPU seconds so far of each worker (the server itself with one worker)."""
        pids = [self.process.pid] if self.workers == 1 else self.worker_pids
        return [_proc_cpu(pid) for pid in pids]

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL (of the master and each worker) after ``STOP_TIMEOUT``; the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.worker_pids:
            if pid != self.process.pid and _proc_status(pid):
                try:
                    os.kill(pid, signal.SIGKILL)  # a worker its master left behind
                except ProcessLookupError:
                    pass
        return self.process.returncode


def _children(pid: int) -> list[int]:
    """The uvicorn workers: child processes of ``pid`` (multiprocessing's resource tracker aside), in pid order."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat and int(stat[1]) == pid and "resource_tracker" not in _cmdline(int(entry.name)):
                found.append(int(entry.name))
    return sorted(found)


def _proc_stat(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields after the command name (state, ppid, ...), or None once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _proc_cpu(pid: int) -> float:
    stat = _proc_stat(pid)
    return (int(stat[11]) + int(stat[12])) / _CLOCK if stat else float("nan")  # utime + stime


def _proc_status(pid: int) -> dict[str, int]:
    """/proc/PID/status's kB figures (VmRSS, VmHWM, ...); empty once the process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {key: int(value.split()[0]) for key, _, value in (line.partition(":") for line in lines) if value.strip().endswith("kB")}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def access_log(log: Path) -> dict[str, list[float]]:
    """The service's milliseconds per phase tag, from its access log (request ids ``TAG.N``), successful requests only."""
    served: dict[str, list[float]] = {}
    for match in _ACCESS.finditer(log.read_text(errors="replace")):
        tag, status, ms = match.group(1).rpartition(".")[0], match.group(2), float(match.group(3))
        if status == "200":
            served.setdefault(tag, []).append(ms)
    return served


# ---------------------------------------------------------------------------------- requests


def companies_from_table(path: Path, columns: list[dict], *, target: str = TARGET, rows: int | None = None) -> list[dict]:
    """The table's first ``rows`` rows as a JSON client sends them: without ``target``, the model's numeric columns as
    numbers, empty cells as null, everything else as text (as tests/test_serve.py's ``as_json``)."""
    numeric = {c["name"] for c in columns if c["type"] == "number"}
    with Path(path).open(newline="", encoding="utf-8-sig") as table:
        records = itertools.islice(csv.DictReader(table), rows)
        return [{name: _cell(name, value, name in numeric) for name, value in record.items() if name != target} for record in records]


def _cell(name: str, value: str | None, numeric: bool) -> float | str | None:
    if value is None or value == "":
        return None
    if not numeric:
        return value
    try:
        number = float(value)
    except ValueError:
        raise SystemExit(f"column {name}: {value!r} is not a plain number; the load test sends a plain CSV's cells as JSON numbers") from None
    return number if math.isfinite(number) else None


def batch(companies: list[dict], size: int, id_column: str | None) -> list[dict]:
    """``size`` companies, the table's rows repeated as needed; a repeated row's id gets ``~copy`` (ids must not repeat)."""
    rows = []
    for i in range(size):
        row, copy = companies[i % len(companies)], i // len(companies)
        if copy and id_column and row.get(id_column) is not None:
            row = {**row, id_column: f"{row[id_column]}~{copy}"}
        rows.append(row)
    return rows


def _phase(server: Server, kind: str, bodies: list[bytes] | None, *, clients: int, limit: int, seconds: float, reasons: bool = True, rows: int = 1) -> dict:
    """``limit`` requests (or ``seconds``, whichever ends first) from ``clients`` threads, each with its own connection:
    POST /v1/score of ``bodies`` in turn, or GET /healthz when ``bodies`` is None. Latencies, throughput, CPU seconds."""
    tag = f"{kind}-{rows}-{'reasons' if reasons else 'plain'}-c{clients}" if bodies is not None else f"{kind}-c{clients}"
    params = {} if reasons else {"reasons": "false"}
    counter, lock = itertools.count(), threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []
    deadline = time.perf_counter() + seconds

    def client() -> None:
        with httpx.Client(base_url=server.url, timeout=max(120.0, seconds)) as http:
            while (i := next(counter)) < limit and time.perf_counter() < deadline:
                headers = {"X-Request-ID": f"{tag}.{i}"}
                started = time.perf_counter()
                try:
                    if bodies is None:
                        response = http.get("/healthz", headers=headers)
                    else:
                        response = http.post(
                            "/v1/score", content=bodies[i % len(bodies)], params=params, headers={**headers, "content-type": "application/json"}
                        )
                except httpx.HTTPError as exc:
                    with lock:
                        failures.append(f"{type(exc).__name__}: {exc}")
                    return
                elapsed = time.perf_counter() - started
                with lock:
                    if response.status_code == 200:
                        latencies.append(elapsed)
                    else:
                        failures.append(f"{response.status_code}: {response.text[:300]}")
                if i == 0 and bodies is not None and response.status_code == 200 and response.json()["rows"] != rows:
                    with lock:
                        failures.append(f"answered {response.json()['rows']} rows of {rows}")

    cpu_before, client_before = server.cpu_seconds(), time.process_time()
    started = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cpu = [after - before for before, after in zip(cpu_before, server.cpu_seconds(), strict=True)]
    ms = np.array(latencies) * 1000
    result = {
        "tag": tag,
        "kind": kind,
        "rows": rows,
        "reasons": reasons if bodies is not None else None,
        "clients": clients,
        "requests": len(latencies),
        "failed": len(failures),
        "failures": failures[:3],
        "wall_seconds": wall,
        "requests_s": len(latencies) / wall if wall > 0 else None,
        "server_cpu_s": cpu,
        "client_cpu_s": time.process_time() - client_before,
    }
    if len(ms):
        result.update({f"p{q}_ms": float(np.percentile(ms, q)) for q in (50, 95, 99)})
        result.update({"mean_ms": float(ms.mean()), "max_ms": float(ms.max()), "median_s": float(np.median(ms)) / 1000})
        result["companies_s"] = clients * rows / result["median_s"]  # each client's median request, every client at once
    if failures:
        print(f"... {tag}: {len(failures)} failed, e.g. {failures[0]}", file=sys.stderr, flush=True)
    return result


def _hotleads(*args: str) -> None:
    done = subprocess.run([str(HOTLEADS), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"hotleads {' '.join(args)} failed:\n{done.stderr[-3000:]}")


# ---------------------------------------------------------------------------------- markdown


def serve_markdown(result: dict) -> list[str]:
    runs = result["runs"]
    lines = [
        "",
        f"### Scoring service (`hotleads serve`): loopback, {result['cores']} cores, httpx client in the same machine",
        "",
        f"Target (issue 13): p99 under {result['p99_target_ms']:.0f} ms for one company per request with reasons, gbdt, on 2 cores. "
        f"Each phase: at most {result['requests']:,} requests or {result['seconds']:.0f} s, after a {result['warmup']}-request warm-up; "
        "one keep-alive connection per client thread. *server* is the service's own time from its access log (the rest is HTTP and the client); "
        "CPU s is each server process's CPU time in the phase, and the client's.",
        "",
        "| model | workers | clients | reasons | requests | p50 ms | p95 ms | p99 ms | server p50 / p99 ms | requests/s | CPU s server (client) | p99 target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        for p in run["phases"]:
            if p["kind"] == "batch":
                continue
            what = "GET /healthz" if p["kind"] == "healthz" else ("yes" if p["reasons"] else "no")
            target = ""
            if p["kind"] == "single" and p["reasons"] and p["clients"] == 1 and run["name"] == "gbdt" and "p99_ms" in p:
                target = "met" if p["p99_ms"] < result["p99_target_ms"] else "MISSED"
            lines.append(
                f"| {run['model']} | {run['workers']} | {p['clients']} | {what} | {_count(p)} | {_ms(p, 'p50_ms')} | {_ms(p, 'p95_ms')} | {_ms(p, 'p99_ms')} | "
                f"{_ms(p, 'server_p50_ms')} / {_ms(p, 'server_p99_ms')} | {_number(p.get('requests_s'))} | {_cpu(p)} | {target} |"
            )
    lines += [
        "",
        f"Batches (one client per worker, at most {result['batch_repeats']} requests each); companies/s = clients x companies per request / median request seconds:",
        "",
        "| model | workers | companies per request | reasons | requests | median s | server p50 ms | companies/s | CPU s server (client) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        for p in run["phases"]:
            if p["kind"] == "batch":
                median = f"{p['median_s']:.3f}" if "median_s" in p else "-"
                lines.append(
                    f"| {run['model']} | {run['workers']} | {p['rows']:,} | {'yes' if p['reasons'] else 'no'} | {_count(p)} | {median} | "
                    f"{_ms(p, 'server_p50_ms')} | {_number(p.get('companies_s'))} | {_cpu(p)} |"
                )
    lines += [
        "",
        "Memory (MB) of each process that holds the model: at rest once every worker has started, and after the load; peak is VmHWM.",
        "",
        "| model | workers | process | start s | RSS at rest | RSS after load | peak |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        for m in run["memory"]:
            after = f"{m['rss_mb_loaded']:.0f}" if "rss_mb_loaded" in m else "-"
            peak = f"{m['hwm_mb_loaded']:.0f}" if "hwm_mb_loaded" in m else "-"
            lines.append(f"| {run['model']} | {run['workers']} | {m['process']} | {run['start_seconds']:.1f} | {m['rss_mb']:.0f} | {after} | {peak} |")
    return lines


def _count(p: dict) -> str:
    return f"{p['requests']:,}" + (f" ({p['failed']} failed)" if p["failed"] else "")


def _ms(p: dict, key: str) -> str:
    value = p.get(key)
    return "-" if value is None else f"{value:.1f}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _cpu(p: dict) -> str:
    return " + ".join(f"{s:.1f}" for s in p["server_cpu_s"]) + f" ({p['client_cpu_s']:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "hr-leads" / "train.csv", help="labelled CSV to train on and send")
    parser.add_argument("--requests", type=int, default=REQUESTS, help="most requests per phase")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="most seconds per phase")
    parser.add_argument("--models", default=";".join(MODELS), help="models to serve, ';'-separated (each a --models value of train)")
    parser.add_argument("--workdir", type=Path, help="where models and logs go (default: a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = serve_section(args.workdir or Path(tmp), args.data, requests=args.requests, seconds=args.seconds, models=tuple(args.models.split(";")))
    print(json.dumps(result, indent=2))
    print("\n".join(serve_markdown(result)))


if __name__ == "__main__":
    main()
