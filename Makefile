# kmeans-scratch: `make test` and `make demo` set everything up themselves on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install kernels test lint bench bench-quick bench-command bench-large bench-kodak bench-effort bench-dask bench-dask-memory bench-widths demo notebook figures clean pngquant

install: $(STAMP) kernels

# (Re)install when pyproject.toml changes; the stamp records a finished install.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[compress,test,bench,dask]"
	$(BIN)/python -m compileall -q kmeans_scratch  # bytecode even where PYTHONDONTWRITEBYTECODE is set
	touch $(STAMP)

# The ahead-of-time kernel module the command starts with (needs a C compiler; about a
# minute, once per version of the sources): without it the command runs, 0.5 s slower.
# Alongside, in two more processes, Numba's cache of a Python session's kernels (a minute or
# two the first time, seconds after): without it a first fit in a session compiles them.
# And the sources' bytecode again, should they have changed since the install: where
# PYTHONDONTWRITEBYTECODE is set, every run would compile them anew (10 ms of a start).
kernels: $(STAMP)
	$(BIN)/python -m compileall -q kmeans_scratch
	$(BIN)/python -m kmeans_scratch.build_kernels --warm 1 & first=$$!; \
	$(BIN)/python -m kmeans_scratch.build_kernels --warm 2 & second=$$!; \
	$(BIN)/python -m kmeans_scratch.build_kernels; built=$$?; \
	wait $$first; warmed=$$?; wait $$second; test $$? = 0 && test $$warmed = 0 && test $$built = 0

lint: $(STAMP)
	$(BIN)/ruff check kmeans_scratch tests benchmarks examples
	$(BIN)/ruff format --check kmeans_scratch tests benchmarks examples

# The whole suite, then the benchmark suite once in smoke mode (untimed, small data).
test: lint kernels
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest benchmarks --benchmark-disable -q

# The command-against-pngquant rows read the Kodak photos; where the folder is missing the
# run says so before it starts and uses the shipped images instead.
KODAK ?= ../shared/images/kodak
COMMAND_IMAGES := --command-images $(KODAK)

# pngquant, the file-to-file reference of the benchmarks (Debian's package), where apt can.
pngquant:
	@command -v pngquant >/dev/null || apt-get install -y -qq pngquant >/dev/null 2>&1 \
	    || echo "pngquant is not installed and apt could not install it: its rows are skipped"

# The timed benchmark suite (but the grids of their own targets); writes benchmarks/RESULTS.md
# and .json. It says what it runs, on which images, how long it expects and where it wrote.
bench: $(STAMP) kernels pngquant
	$(BIN)/python -m pytest benchmarks -m "not grid" --benchmark-columns=min,median,max,rounds -q $(COMMAND_IMAGES)

# The headline rows alone (marked quick in benchmarks/conftest.py), at most 3 rounds each:
# under 5 minutes; writes benchmarks/RESULTS-quick.md and .json, and the README's speed table.
# (a run whose command rows fell back to the shipped images leaves the README as it is).
bench-quick: $(STAMP) kernels pngquant
	$(BIN)/python -m pytest benchmarks -m quick --max-rounds 3 -q \
	    --benchmark-columns=min,median,max,rounds $(COMMAND_IMAGES) --results benchmarks/RESULTS-quick.md
	$(BIN)/python -m benchmarks.report benchmarks/RESULTS-quick.json README.md

# Lloyd and Elkan against scikit-learn's at every width: d = 2 ... 784, k = 8/64/256, float32
# and float64, n*d = 1e7, and sparse TF-IDF-like rows (20,000 x 20,000, k = 20);
# writes benchmarks/RESULTS-widths.md.
bench-widths: $(STAMP)
	$(BIN)/python -m pytest benchmarks/test_core.py -m grid -q --results benchmarks/RESULTS-widths.md

# Only the command against pngquant (file to file); writes benchmarks/RESULTS-command.md, and
# the batch and one-file rows on the Wikipedia photos, RESULTS-command-wikipedia.md, and on
# scikit-image's photos (saved as PNG in build/), RESULTS-command-skimage.md.
WIKIPEDIA ?= ../shared/images/wikipedia
SKIMAGE_PHOTOS := build/skimage-photos
bench-command: $(STAMP) kernels pngquant
	$(BIN)/python -m pytest benchmarks/test_command.py -q $(COMMAND_IMAGES) \
	    --results benchmarks/RESULTS-command.md
	$(BIN)/python -m pytest benchmarks/test_command.py -q -k "batch_against or one_file_in" \
	    --command-images $(WIKIPEDIA) --results benchmarks/RESULTS-command-wikipedia.md
	$(BIN)/python -m benchmarks.datasets $(SKIMAGE_PHOTOS) > /dev/null
	$(BIN)/python -m pytest benchmarks/test_command.py -q -k "batch_against or one_file_in" \
	    --command-images $(SKIMAGE_PHOTOS) --results benchmarks/RESULTS-command-skimage.md

# Large images (3, 12 and 24 megapixels) file to file, time and peak memory, against pngquant
# and libimagequant, 3 alternating rounds; writes benchmarks/RESULTS-large.md (about 10 minutes).
bench-large: $(STAMP) kernels pngquant
	$(BIN)/python -m pytest benchmarks/test_large_images.py -q --results benchmarks/RESULTS-large.md

# The k = 256 quantizer rows (ours, libimagequant, scikit-learn on all pixels) and how soon ours
# passes faiss's inertia, on every image of a folder: the 24 Kodak photos by default
# (KODAK=folder, KODAK_ROWS='' for every row).
KODAK_ROWS ?= 256 and (ours or libimagequant or pixels or faiss_quality)
bench-kodak: $(STAMP)
	$(BIN)/python -m pytest benchmarks/test_peers_quantize.py \
	    benchmarks/test_peers_kmeans.py::test_iterations_to_faiss_quality -q --images $(KODAK) \
	    -k "$(KODAK_ROWS)" --results benchmarks/RESULTS-kodak.md

# What the fit's effort buys (error and time at k = 16–256 for the default and speed 1,
# beside libimagequant and scikit-learn) and dithering against Pillow's, on the Kodak photos
# (RESULTS-effort.md) and the Wikipedia photos (RESULTS-effort-wikipedia.md); about an hour.
bench-effort: $(STAMP)
	$(BIN)/python -m pytest benchmarks/test_palette_effort.py -q --images $(KODAK) \
	    --results benchmarks/RESULTS-effort.md
	$(BIN)/python -m pytest benchmarks/test_palette_effort.py -q --images $(WIKIPEDIA) \
	    --results benchmarks/RESULTS-effort-wikipedia.md

# K-Means on a LocalCluster of 2 workers: ours against dask-ml and our in-memory fit, on 4 and
# 20 million rows; writes benchmarks/RESULTS-dask.md (about 10 minutes, most of it dask-ml's).
bench-dask: $(STAMP) kernels
	$(BIN)/python -m pytest benchmarks/test_dask.py -q -p no:logging --results benchmarks/RESULTS-dask.md $(COMMAND_IMAGES)

# A Dask worker's memory, and 60 million rows fitted on 2 workers of 400 MB with Dask's
# default memory settings (a few minutes); writes benchmarks/RESULTS-dask-memory.md.
bench-dask-memory: $(STAMP) kernels
	$(BIN)/python -m benchmarks.dask_memory --results benchmarks/RESULTS-dask-memory.md

# The k-sweep experiment on china.jpg: palette PNGs, figures and report in kmeans-compress-demo/.
demo: $(STAMP) kernels
	$(BIN)/kmeans-compress

# The classroom experiment as a notebook, opened in Jupyter (installed on first use).
# Jupyter refuses to start as root (a container's user) without --allow-root: it is passed
# then, and only then (ALLOW_ROOT=1 or ALLOW_ROOT=0 decides instead).
ALLOW_ROOT ?= $(if $(filter 0,$(shell id -u)),1,0)
notebook: $(STAMP)
	$(BIN)/pip install -q notebook
	$(BIN)/jupyter notebook $(if $(filter 1,$(ALLOW_ROOT)),--allow-root )examples/color_quantization.ipynb

# Regenerate the figures shown in the README and docs/compressor.md.
figures: $(STAMP)
	$(BIN)/kmeans-compress --quiet --out-dir .figures-build
	mkdir -p figures
	cp .figures-build/china-grid.png .figures-build/china-size.png \
	   .figures-build/china-quality.png .figures-build/china-scatter.png figures/
	rm -rf .figures-build

# Remove the compiled kernels: Numba's cache and the ahead-of-time module.
clean:
	find kmeans_scratch -name '*.nbi' -delete -o -name '*.nbc' -delete
	rm -rf kmeans_scratch/__pycache__/kmeans-scratch-*
