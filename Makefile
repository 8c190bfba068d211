PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data
WORK ?= work
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install test test-slow demo bench lint clean default-model data compare gallery

$(BIN)/colorize: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e .[dev]
	touch $(BIN)/colorize

install: $(BIN)/colorize

test: install
	$(BIN)/python -m pytest -q

test-slow: install
	$(BIN)/python -m pytest -q --run-slow

# The main job: colorize a grayscale version of scikit-image's astronaut portrait with the
# bundled default model; writes out/demo/astronaut_{gray,colorized,compare}.png.
demo: install
	$(BIN)/python examples/colorize_astronaut.py -o out/demo

# docs/gallery.png: gray | colorized | original on held-out (test-split) scenes and portraits from
# $(DATA), plus scikit-image's camera (black and white) and astronaut, with the bundled model.
gallery: install
	$(BIN)/python examples/make_gallery.py --model default -o docs/gallery.png --data $(DATA)

bench: install
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_train.py --steps 3 --batch-size 8
	$(BIN)/python benchmarks/bench_predict.py

lint: install
	$(BIN)/python -m compileall -q colorize tests examples benchmarks

# Prepared data sets (128 px) from ../shared/data: UTKFace and both sets together to train on,
# Human Faces alone to check on (its test split is the combined set's Human Faces test images).
$(WORK)/utk128/manifest.json: | install
	$(BIN)/colorize prepare $(DATA)/utkface/images -o $(WORK)/utk128
$(WORK)/hf128/manifest.json: | install
	$(BIN)/colorize prepare $(DATA)/humanfaces/images -o $(WORK)/hf128
$(WORK)/faces128/manifest.json: | install
	$(BIN)/colorize prepare $(DATA)/utkface/images $(DATA)/humanfaces/images -o $(WORK)/faces128
data: $(WORK)/utk128/manifest.json $(WORK)/hf128/manifest.json $(WORK)/faces128/manifest.json

# The recipe of the bundled default model (CPU, about 2 h 15 min on 2 cores; resumable:
# re-running `make default-model` continues an interrupted stage). Stage 1 learns faces on
# UTKFace crops; stage 2 fine-tunes it on UTKFace + Human Faces (head-and-shoulders framings).
DEFAULT_RUN := $(WORK)/runs/default-unet16
DEFAULT_MIXED := $(WORK)/runs/default-unet16-mixed
UNET16 := --model unet --option base_filters=16 --image-size 128 --batch-size 16 --steps-per-epoch 250 --augment
default-model: data
	if [ -f $(DEFAULT_RUN)/config.json ]; then $(BIN)/colorize train --resume $(DEFAULT_RUN); \
	else $(BIN)/colorize train $(WORK)/utk128 $(UNET16) --epochs 7 -o $(DEFAULT_RUN); fi
	if [ -f $(DEFAULT_MIXED)/config.json ]; then $(BIN)/colorize train --resume $(DEFAULT_MIXED); \
	else $(BIN)/colorize train $(WORK)/faces128 $(UNET16) --epochs 8 --learning-rate 3e-4 \
	  --init-weights $(DEFAULT_RUN) -o $(DEFAULT_MIXED); fi
	$(BIN)/colorize evaluate $(DEFAULT_MIXED) $(DEFAULT_RUN) $(WORK)/hf128 --split test --baselines --overwrite -o $(WORK)/reports/default-hf
	$(BIN)/colorize evaluate $(DEFAULT_MIXED) $(DEFAULT_RUN) $(WORK)/utk128 --split test --baselines --overwrite -o $(WORK)/reports/default-utk
	$(BIN)/python -c "import keras, sys; keras.saving.load_model(sys.argv[1], compile=False).save(sys.argv[2])" \
	  $(DEFAULT_MIXED)/best.keras colorize/assets/default.keras   # weights only: no optimizer state

# Every model family under one training budget (UTKFace train split), evaluated side by side
# with the baselines on the Human Faces test split: work/compare/summary.md and report/.
compare: data
	$(BIN)/python benchmarks/compare_models.py $(WORK)/utk128 --eval-data $(WORK)/hf128 -o $(WORK)/compare

clean:
	rm -rf build dist *.egg-info .pytest_cache
