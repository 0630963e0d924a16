"""Tests of the Python helper against databases written by the real selectjob binary.

Run by `make test` with SELECTJOB_BINARY pointing at the built binary:
    SELECTJOB_BINARY=.build/debug/selectjob python -m unittest discover -s python/tests
"""
import importlib.util
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import types
import unittest
import unittest.mock

import numpy as np

import selectjob


def mixture(rows=400, dimensions=16, classes=4, seed=3):
    """Labelled Gaussian clusters, float32."""
    generator = np.random.default_rng(seed)
    centres = generator.normal(size=(classes, dimensions)) * 3
    labels = generator.integers(0, classes, size=rows)
    return (centres[labels] + generator.normal(size=(rows, dimensions))).astype(np.float32), labels


@unittest.skipUnless(os.environ.get("SELECTJOB_BINARY") or shutil.which("selectjob"), "no selectjob binary")
class HelperTests(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="selectjob-python-")
        self.db = os.path.join(self.folder, "sel.sqlite")
        self.features, self.labels = mixture()
        self.ids = np.arange(400, dtype=np.int64) * 7 + 100

    def tearDown(self):
        shutil.rmtree(self.folder)

    def write_job(self, name, features_spec, method=None, budget=None):
        path = os.path.join(self.folder, name + ".json")
        with open(path, "w") as file:
            json.dump({"name": name, "features": features_spec, "method": method or {"name": "kmeans"},
                       "budget": budget or {"count": 12}, "database": "sel.sqlite"}, file)
        return path

    def test_npy_features_run_and_load_in_rank_order(self):
        spec = selectjob.write_features(os.path.join(self.folder, "feats.npy"), self.features, ids=self.ids,
                                        labels=self.labels)
        self.assertEqual(spec, {"path": "feats.npy", "ids": "feats.ids.npy", "labels": "feats.labels.npy"})
        outcomes = selectjob.run(self.write_job("plain", spec))
        self.assertEqual(outcomes[0]["outcome"], "completed")
        picked = selectjob.load(self.db, job="plain")
        self.assertEqual(len(picked), 12)
        self.assertEqual(picked.method, "kmeans")
        np.testing.assert_array_equal(picked.rank, np.arange(12))
        np.testing.assert_array_equal(picked.sample_id, self.ids[picked.row_index])
        np.testing.assert_array_equal(picked.label, self.labels[picked.row_index])
        self.assertEqual(picked.sample_id.dtype, np.int64)
        self.assertTrue(np.all(np.diff(picked.score) <= 0))  # k-means: largest cluster first
        # The same run by id; the rows the database holds, in its order.
        by_id = selectjob.load(self.db, run=outcomes[0]["run"])
        np.testing.assert_array_equal(by_id.row_index, picked.row_index)
        with sqlite3.connect(self.db) as connection:
            rows = [r[0] for r in connection.execute(
                "SELECT row_index FROM latest_selections WHERE job = 'plain' ORDER BY rank")]
        self.assertEqual(picked.row_index.tolist(), rows)

    def test_compressed_npz(self):
        path = os.path.join(self.folder, "feats.npz")
        np.savez_compressed(path, features=self.features, ids=self.ids, labels=self.labels)
        selectjob.run(self.write_job("npz", {"path": "feats.npz", "ids": "ids", "labels": "labels"}))
        picked = selectjob.load(self.db, job="npz")
        np.testing.assert_array_equal(picked.sample_id, self.ids[picked.row_index])
        np.testing.assert_array_equal(picked.label, self.labels[picked.row_index])

    def test_string_ids_and_missing_labels(self):
        names = np.array([f"img_{i}.jpg" for i in range(400)])
        spec = selectjob.write_features(os.path.join(self.folder, "named.npy"), self.features, ids=names)
        self.assertEqual(spec["ids"], "named.ids.txt")
        selectjob.run(self.write_job("named", spec))
        picked = selectjob.load(self.db, job="named")
        self.assertEqual(picked.sample_id.dtype, object)
        self.assertEqual(picked.sample_id.tolist(), [f"img_{r}.jpg" for r in picked.row_index])
        self.assertTrue(np.all(np.isnan(picked.label)))

    def test_errors_name_what_is_wrong(self):
        spec = selectjob.write_features(os.path.join(self.folder, "feats.npy"), self.features)
        selectjob.run(self.write_job("once", spec))
        with self.assertRaisesRegex(selectjob.SelectjobError, "job 'other' has no succeeded run"):
            selectjob.load(self.db, job="other")
        with self.assertRaisesRegex(selectjob.SelectjobError, "no run 99"):
            selectjob.load(self.db, run=99)
        with self.assertRaisesRegex(selectjob.SelectjobError, "no such database"):
            selectjob.load(os.path.join(self.folder, "none.sqlite"), job="once")
        with self.assertRaises(ValueError):
            selectjob.load(self.db, job="once", run=1)
        with self.assertRaises(ValueError):
            selectjob.write_features(os.path.join(self.folder, "bad.npy"), self.features, ids=self.ids[:5])
        # A failed run raises with the binary's exit status and message.
        bad = self.write_job("bad", spec, budget={"count": 100000})
        with self.assertRaises(selectjob.SelectjobError) as raised:
            selectjob.run(bad)
        self.assertEqual(raised.exception.status, 64)
        self.assertIn("budget", str(raised.exception))

    def test_select_without_a_job_file(self):
        path = os.path.join(self.folder, "feats.npy")
        selectjob.write_features(path, self.features)
        outcome = selectjob.select(path, "kmeans", "3%", self.db, "max_iterations=50")
        self.assertEqual(outcome["outcome"], "completed")
        self.assertEqual(outcome["job"], "feats-kmeans-3pct")
        self.assertEqual(len(selectjob.load(self.db, job="feats-kmeans-3pct")), 12)

    @unittest.skipUnless(importlib.util.find_spec("h5py"), "h5py not installed (make python-helper installs it)")
    def test_hdf5_features(self):
        spec = selectjob.write_features(os.path.join(self.folder, "feats.h5"), self.features, ids=self.ids,
                                        labels=self.labels)
        self.assertEqual(spec, {"path": "feats.h5", "dataset": "features", "ids": "ids", "labels": "labels"})
        selectjob.run(self.write_job("hdf5", spec))
        picked = selectjob.load(self.db, job="hdf5")
        np.testing.assert_array_equal(picked.sample_id, self.ids[picked.row_index])

    def test_subset_is_the_selected_rows(self):
        spec = selectjob.write_features(os.path.join(self.folder, "feats.npy"), self.features)
        selectjob.run(self.write_job("subset", spec))
        dataset = list(range(400))
        if importlib.util.find_spec("torch") is None:
            # torch.utils.data.Subset's contract (dataset, indices), stood in for where torch is absent.
            class Subset:
                def __init__(self, dataset, indices):
                    self.dataset, self.indices = dataset, indices

                def __iter__(self):
                    return (self.dataset[i] for i in self.indices)

            data = types.ModuleType("torch.utils.data")
            data.Subset = Subset
            modules = {"torch": types.ModuleType("torch"), "torch.utils": types.ModuleType("torch.utils"),
                       "torch.utils.data": data}
            with unittest.mock.patch.dict(sys.modules, modules):
                chosen = selectjob.subset(dataset, self.db, job="subset")
        else:
            chosen = selectjob.subset(dataset, self.db, job="subset")
        self.assertEqual(list(chosen), selectjob.load(self.db, job="subset").row_index.tolist())

    @unittest.skipUnless(importlib.util.find_spec("pandas"), "pandas not installed (make python-helper installs it)")
    def test_dataframe_columns(self):
        spec = selectjob.write_features(os.path.join(self.folder, "feats.npy"), self.features, labels=self.labels)
        selectjob.run(self.write_job("frame", spec))
        frame = selectjob.load(self.db, job="frame").to_dataframe()
        self.assertEqual(list(frame.columns), ["rank", "row_index", "sample_id", "score", "label"])


if __name__ == "__main__":
    unittest.main()
