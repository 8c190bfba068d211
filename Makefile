PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data
WORK ?= work
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install test test-slow demo bench bench-backends lint clean default-model data compare gpu-train

$(BIN)/colorize: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e .[dev,jax]
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

bench: install
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_train.py --steps 3 --batch-size 8
	$(BIN)/python benchmarks/bench_predict.py

# The default U-Net's training speed on every installed Keras backend, side by side.
bench-backends: install
	$(BIN)/python benchmarks/bench_train.py --backends tensorflow,jax,torch --steps 8 --batch-size 16

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
	$(BIN)/colorize evaluate $(DEFAULT_MIXED) $(DEFAULT_RUN) $(WORK)/hf128 --split test --baselines -o $(WORK)/reports/default-hf
	$(BIN)/colorize evaluate $(DEFAULT_MIXED) $(DEFAULT_RUN) $(WORK)/utk128 --split test --baselines -o $(WORK)/reports/default-utk
	$(BIN)/python -c "import keras, sys; keras.saving.load_model(sys.argv[1], compile=False).save(sys.argv[2])" \
	  $(DEFAULT_MIXED)/best.keras colorize/assets/default.keras   # weights only: no optimizer state

# Every model family under one training budget (UTKFace train split), evaluated side by side
# with the baselines on the Human Faces test split: work/compare/summary.md and report/.
compare: data
	$(BIN)/python benchmarks/compare_models.py $(WORK)/utk128 --eval-data $(WORK)/hf128 -o $(WORK)/compare

clean:
	rm -rf build dist *.egg-info .pytest_cache

# Train the default model with the JAX backend on a machine without TensorFlow (e.g. a GPU
# box): a separate venv with only JAX, Keras, NumPy, OpenCV and colorize's small pure-Python
# dependencies (colorize itself installed --no-deps), from a prepared set copied there
# (PREPARED, written by `colorize prepare`, which also writes the .npy shards it reads).
# Writes $(GPU_RUN)/best.keras, which `colorize predict --model $(GPU_RUN)` loads anywhere.
# Checked on a CPU with: make gpu-train JAX_EXTRA=cpu JAX_PLATFORMS=cpu PREPARED=... GPU_TRAIN_ARGS=...
GPU_VENV ?= .venv-gpu
JAX_EXTRA ?= cuda12
PREPARED ?= $(WORK)/utk128
GPU_RUN ?= $(WORK)/runs/gpu-unet16
GPU_TRAIN_ARGS ?= $(UNET16) --epochs 7
$(GPU_VENV)/bin/colorize: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(GPU_VENV)
	$(GPU_VENV)/bin/pip install --upgrade pip
	$(GPU_VENV)/bin/pip install "jax[$(JAX_EXTRA)]" "keras>=3.15" numpy opencv-python-headless pillow click pyyaml \
	  h5py scipy matplotlib tqdm
	$(GPU_VENV)/bin/pip install --no-deps -e .
	touch $(GPU_VENV)/bin/colorize
gpu-train: $(GPU_VENV)/bin/colorize
	if [ -f $(GPU_RUN)/config.json ]; then KERAS_BACKEND=jax $(GPU_VENV)/bin/colorize train --resume $(GPU_RUN); \
	else KERAS_BACKEND=jax $(GPU_VENV)/bin/colorize train $(PREPARED) $(GPU_TRAIN_ARGS) -o $(GPU_RUN); fi
