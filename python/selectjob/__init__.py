"""Read selectjob's selections, write features for it, and run it — from Python.

    import selectjob
    picked = selectjob.load("selections.sqlite", job="cifar10-activeft-1pct")
    picked.row_index                      # numpy array, rank order
    train_subset = selectjob.subset(train_set, "selections.sqlite", job="cifar10-activeft-1pct")

numpy is the only dependency; pandas (``Selection.to_dataframe``), torch (``subset``) and h5py
(``write_features`` to ``.h5``) are used when present. The database is opened read-only.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

__all__ = ["Selection", "SelectjobError", "load", "subset", "write_features", "run", "select"]
__version__ = "0.2.0"


class SelectjobError(Exception):
    """A selection that cannot be read, or a selectjob command that failed (``status``: its exit code)."""

    def __init__(self, message: str, status: Optional[int] = None):
        super().__init__(message)
        self.status = status


@dataclass
class Selection:
    """One run's selection in rank order; each field a numpy array named as the database's column."""

    run_id: int
    job: str
    method: str
    rank: np.ndarray
    row_index: np.ndarray
    sample_id: np.ndarray
    score: np.ndarray
    label: np.ndarray

    def __len__(self) -> int:
        return len(self.rank)

    def to_dataframe(self):
        """The selection as a pandas DataFrame (pandas needed)."""
        import pandas as pd

        return pd.DataFrame({"rank": self.rank, "row_index": self.row_index, "sample_id": self.sample_id,
                             "score": self.score, "label": self.label})


def _connect(db: str) -> sqlite3.Connection:
    if not os.path.isfile(db):
        raise SelectjobError(f"{db}: no such database")
    return sqlite3.connect(f"file:{os.path.abspath(db)}?mode=ro", uri=True)


def load(db: str, job: Optional[str] = None, run: Optional[int] = None) -> Selection:
    """The selection of run ``run``, or of job ``job``'s latest succeeded run (give exactly one).

    ``sample_id`` is an int64 array when every id is an integer, else an object array of str;
    ``label`` is int64 when every selected sample has a label, else float64 with NaN where it has none.
    Raises ``SelectjobError`` when there is no such run, or the run did not succeed.
    """
    if (job is None) == (run is None):
        raise ValueError("give job= or run=, not both")
    with _connect(db) as connection:
        if run is None:
            found = connection.execute(
                "SELECT id FROM runs WHERE job = ? AND status = 'succeeded' ORDER BY id DESC LIMIT 1", (job,)).fetchone()
            if found is None:
                raise SelectjobError(f"{db}: job {job!r} has no succeeded run")
            run = found[0]
        header = connection.execute("SELECT job, method, status FROM runs WHERE id = ?", (run,)).fetchone()
        if header is None:
            raise SelectjobError(f"{db}: no run {run}")
        if header[2] != "succeeded":
            raise SelectjobError(f"{db}: run {run} is {header[2]}, it has no selection")
        rows = connection.execute(
            "SELECT rank, row_index, sample_id, score, label FROM selections WHERE run_id = ? ORDER BY rank",
            (run,)).fetchall()
    ids = [r[2] for r in rows]
    labels = [r[4] for r in rows]
    return Selection(
        run_id=int(run), job=header[0], method=header[1],
        rank=np.array([r[0] for r in rows], dtype=np.int64),
        row_index=np.array([r[1] for r in rows], dtype=np.int64),
        sample_id=(np.array(ids, dtype=np.int64) if all(isinstance(i, int) for i in ids)
                   else np.array([str(i) for i in ids], dtype=object)),
        score=np.array([r[3] for r in rows], dtype=np.float64),
        label=(np.array(labels, dtype=np.int64) if all(l is not None for l in labels)
               else np.array([np.nan if l is None else l for l in labels], dtype=np.float64)),
    )


def subset(dataset, db: str, job: Optional[str] = None, run: Optional[int] = None):
    """``torch.utils.data.Subset`` of ``dataset`` (indexed as the feature rows were) with the selected
    rows, in rank order (torch needed)."""
    from torch.utils.data import Subset

    return Subset(dataset, load(db, job=job, run=run).row_index.tolist())


def write_features(path: str, features, ids: Optional[Sequence] = None, labels: Optional[Sequence] = None) -> dict:
    """Writes an N × d feature matrix (and optional ids and integer labels) where selectjob reads it
    fastest, and returns the job's ``"features"`` object for it.

    ``.h5``: one HDF5 file (h5py needed) — ``features`` float32 in chunks of whole rows, gzip level 4,
    ``ids`` (integers, or UTF-8 strings) and ``labels`` int64 beside it. ``.npy``: ``features`` as a
    plain float32 array, ids in ``PATH.ids.npy`` (integers) or ``PATH.ids.txt`` (strings, one a line)
    and labels in ``PATH.labels.npy``.
    """
    matrix = np.ascontiguousarray(np.asarray(features, dtype=np.float32))
    if matrix.ndim != 2 or matrix.shape[0] == 0 or matrix.shape[1] == 0:
        raise ValueError(f"features: expected a non-empty N × d matrix, got shape {matrix.shape}")
    n = matrix.shape[0]
    id_array = None if ids is None else np.asarray(ids)
    label_array = None if labels is None else np.asarray(labels, dtype=np.int64)
    for name, array in (("ids", id_array), ("labels", label_array)):
        if array is not None and array.shape != (n,):
            raise ValueError(f"{name}: expected {n} values (one per row), got shape {array.shape}")
    string_ids = id_array is not None and id_array.dtype.kind in "USO"
    spec = {"path": os.path.basename(path)}
    if path.endswith(".h5") or path.endswith(".hdf5"):
        import h5py

        with h5py.File(path, "w") as file:
            rows_per_chunk = max(1, min(n, (1 << 20) // (4 * matrix.shape[1])))
            file.create_dataset("features", data=matrix, chunks=(rows_per_chunk, matrix.shape[1]),
                                compression="gzip", compression_opts=4)
            if id_array is not None:
                if string_ids:
                    file.create_dataset("ids", data=[str(i) for i in id_array], dtype=h5py.string_dtype("utf-8"))
                else:
                    file.create_dataset("ids", data=id_array.astype(np.int64))
                spec["ids"] = "ids"
            if label_array is not None:
                file.create_dataset("labels", data=label_array)
                spec["labels"] = "labels"
        spec["dataset"] = "features"
    elif path.endswith(".npy"):
        np.save(path, matrix)
        base = path[:-len(".npy")]
        if id_array is not None:
            if string_ids:
                names = [str(i) for i in id_array]
                if any("\n" in s or "\r" in s for s in names):
                    raise ValueError("ids: a string id holds a line break")
                with open(base + ".ids.txt", "w", encoding="utf-8") as file:
                    file.write("".join(s + "\n" for s in names))
                spec["ids"] = os.path.basename(base + ".ids.txt")
            else:
                np.save(base + ".ids.npy", id_array.astype(np.int64))
                spec["ids"] = os.path.basename(base + ".ids.npy")
        if label_array is not None:
            np.save(base + ".labels.npy", label_array)
            spec["labels"] = os.path.basename(base + ".labels.npy")
    else:
        raise ValueError(f"{path}: expected a .h5 or .npy path")
    return spec


def _binary(binary: Optional[str]) -> str:
    found = binary or os.environ.get("SELECTJOB_BINARY") or shutil.which("selectjob")
    if not found:
        raise SelectjobError("the selectjob binary is not on PATH (give binary= or set SELECTJOB_BINARY)")
    return found


def run(*job_files: str, db: Optional[str] = None, force: bool = False, binary: Optional[str] = None) -> list:
    """Runs ``selectjob run --json`` on the job files; returns one dict per job (``outcome``:
    ``completed``, ``unchanged`` or ``failed``, with the run id, database and error). Raises
    ``SelectjobError`` with the exit status when any job failed."""
    arguments = [_binary(binary), "run", "--json", "--quiet", *job_files]
    if db is not None:
        arguments += ["--db", db]
    if force:
        arguments.append("--force")
    done = subprocess.run(arguments, capture_output=True, text=True)
    outcomes = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0:
        raise SelectjobError(done.stderr.strip() or f"selectjob run exited {done.returncode}", done.returncode)
    return outcomes


def select(features: str, method: str, budget: str, db: str, *settings: str, binary: Optional[str] = None) -> dict:
    """Runs ``selectjob select FEATURES --method METHOD --budget BUDGET --db DB [--set key=value ...]
    --json`` — a selection without a job file — and returns its outcome (as ``run``)."""
    arguments = [_binary(binary), "select", features, "--method", method, "--budget", budget, "--db", db, "--json"]
    for setting in settings:
        arguments += ["--set", setting]
    done = subprocess.run(arguments, capture_output=True, text=True)
    if done.returncode != 0:
        raise SelectjobError(done.stderr.strip() or f"selectjob select exited {done.returncode}", done.returncode)
    return json.loads(done.stdout.strip().splitlines()[-1])
