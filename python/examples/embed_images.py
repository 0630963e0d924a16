#!/usr/bin/env python3
"""Embeds images with DINO ViT-S/16 (the CLS token, as ActiveFT does) and writes what selectjob reads:
features.h5 (ids = the image paths, labels = the name of each image's folder when --labels-from-folders)
and a job file selecting 1 % with ActiveFT initialised by k-means++.

    python embed_images.py IMAGE_DIR OUT_DIR [--labels-from-folders] [--random-weights] [--budget 1]

The model is facebook/dino-vits16 through transformers (downloaded once from the Hugging Face hub);
--random-weights uses the same architecture untrained, to check the pipeline offline — its
embeddings select nothing meaningful. Images are resized to 224 × 224 and normalised with
ImageNet's mean and standard deviation. Then: selectjob run OUT_DIR/job.json.
"""
import argparse
import json
import os

import numpy as np

import selectjob

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def load_model(random_weights):
    from transformers import ViTConfig, ViTModel

    if random_weights:
        config = ViTConfig(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, intermediate_size=1536,
                           image_size=224, patch_size=16, add_pooling_layer=False)
        return ViTModel(config, add_pooling_layer=False).eval()
    return ViTModel.from_pretrained("facebook/dino-vits16", add_pooling_layer=False).eval()


def pixels(path):
    from PIL import Image

    image = Image.open(path).convert("RGB").resize((224, 224), Image.BICUBIC)
    array = (np.asarray(image, dtype=np.float32) / 255 - MEAN) / STD
    return array.transpose(2, 0, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images")
    parser.add_argument("out")
    parser.add_argument("--labels-from-folders", action="store_true")
    parser.add_argument("--random-weights", action="store_true")
    parser.add_argument("--budget", type=float, default=1.0, help="percent of the pool to select")
    options = parser.parse_args()

    import torch

    paths = sorted(os.path.join(root, name) for root, _, names in os.walk(options.images)
                   for name in names if name.lower().endswith(EXTENSIONS))
    if not paths:
        raise SystemExit(f"{options.images}: no images ({', '.join(EXTENSIONS)})")
    model = load_model(options.random_weights)
    features = []
    with torch.no_grad():
        for start in range(0, len(paths), 32):
            batch = torch.from_numpy(np.stack([pixels(p) for p in paths[start:start + 32]]))
            features.append(model(pixel_values=batch).last_hidden_state[:, 0].numpy())
    features = np.concatenate(features)
    labels = None
    if options.labels_from_folders:
        folders = sorted({os.path.basename(os.path.dirname(p)) for p in paths})
        labels = np.array([folders.index(os.path.basename(os.path.dirname(p))) for p in paths], dtype=np.int64)
    os.makedirs(options.out, exist_ok=True)
    ids = [os.path.relpath(p, options.images) for p in paths]
    spec = selectjob.write_features(os.path.join(options.out, "features.h5"), features, ids=ids, labels=labels)
    job = {"name": "images-activeft", "features": spec, "method": {"name": "activeft", "init": "kmeans++"},
           "budget": {"percent": options.budget}, "database": "selections.sqlite"}
    with open(os.path.join(options.out, "job.json"), "w") as file:
        json.dump(job, file, indent=2)
    print(f"{len(paths)} images → {features.shape[1]}-d embeddings in {options.out}/features.h5; "
          f"selectjob run {options.out}/job.json")


if __name__ == "__main__":
    main()
