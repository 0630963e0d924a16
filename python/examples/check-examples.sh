#!/bin/sh
# make examples: runs both feature-extraction examples end to end, offline — the text one with the
# bundled all-MiniLM-L6-v2 on the repository's own documentation, the image one with an untrained
# DINO ViT-S/16 on generated images — and selectjob on the job each writes.
#   PYTHON=.build/examples-venv/bin/python SELECTJOB=.build/release/selectjob sh python/examples/check-examples.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "examples: $*" >&2; exit 1; }

# Text: every line of the docs with at least 40 characters is a sample.
cat "$root"/README.md "$root"/docs/*.md | "$PYTHON" -c '
import sys
for line in sys.stdin:
    line = line.strip()
    if len(line) >= 40: print(line)' > "$work/texts.txt"
"$PYTHON" "$here/embed_text.py" "$work/texts.txt" "$work/text" --budget 5
(cd "$work/text" && "$SELECTJOB" run --quiet job.json) || fail "selectjob run on the text example's job failed"
picked=$(sqlite3 "$work/text/selections.sqlite" "SELECT COUNT(*) FROM latest_selections WHERE job = 'text-kmeans'")
total=$(wc -l < "$work/texts.txt")
[ "$picked" -eq $((total * 5 / 100)) ] || fail "text: $picked picks of $total texts at 5 %"

# Images: 3 folders of 20 generated pictures each.
"$PYTHON" - "$work/images" <<'PY'
import os, random, sys
from PIL import Image, ImageDraw
random.seed(0)
for label, colour in enumerate(["red", "green", "blue"]):
    folder = os.path.join(sys.argv[1], f"class{label}")
    os.makedirs(folder)
    for i in range(20):
        image = Image.new("RGB", (96, 96), "white")
        x, y = random.randint(0, 40), random.randint(0, 40)
        ImageDraw.Draw(image).ellipse([x, y, x + 40 + label * 8, y + 40], fill=colour)
        image.save(os.path.join(folder, f"{i:02d}.png"))
PY
"$PYTHON" "$here/embed_images.py" "$work/images" "$work/img" --labels-from-folders --random-weights --budget 10
(cd "$work/img" && "$SELECTJOB" run --quiet job.json) || fail "selectjob run on the image example's job failed"
labels=$(sqlite3 "$work/img/selections.sqlite" "SELECT COUNT(*) FROM latest_selections WHERE job = 'images-activeft' AND label IS NOT NULL AND sample_id LIKE 'class%.png'")
[ "$labels" -eq 6 ] || fail "images: expected 6 picks with labels and path ids, got $labels"
echo "examples: text ($picked of $total texts) and images (6 of 60) selected"
