PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data
WORK ?= work
export TF_CPP_MIN_LOG_LEVEL ?= 2
# pytest processes for `make test` (pytest-xdist): each imports TensorFlow (about 1 GB), so 2 by default
TEST_WORKERS ?= 2

.PHONY: install dev test test-slow demo bench bench-backends lint clean default-model default-onnx face-detector default-stages decode-sweep data compare gallery gpu-train

# install: the CLI, its web page and the training set (TensorFlow: train, evaluate, export);
# dev: that plus the test tools (pytest, httpx, selenium) and JAX for the backend tests, which
# `make test` and CI use. A user who only colorizes needs `pip install .` (ONNX Runtime, no TensorFlow).
$(BIN)/colorize: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e .[tensorflow,serve]
	touch $(BIN)/colorize

install: $(BIN)/colorize

$(VENV)/.dev: $(BIN)/colorize
	$(BIN)/pip install -e .[dev,jax]
	touch $(VENV)/.dev

dev: $(VENV)/.dev

test: dev
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

# Also the slow tests: the browser tests need Chromium and its driver
# (Debian/Ubuntu: apt-get install chromium chromium-driver); the PyTorch ones `pip install -e .[torch]`.
test-slow: dev
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup --run-slow

# The main job: colorize a grayscale version of scikit-image's astronaut portrait with the
# bundled default model; writes out/demo/astronaut_{gray,colorized,compare}.png.
demo: install
	$(BIN)/python examples/colorize_astronaut.py -o out/demo

# docs/gallery.png: gray | colorized | original on scikit-image's camera (black and white),
# astronaut, coffee cup and cat, with the bundled model (never the training sets' photos).
gallery: install
	$(BIN)/python examples/make_gallery.py --model default -o docs/gallery.png

bench: install
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_train.py --steps 3 --batch-size 8
	$(BIN)/python benchmarks/bench_predict.py

# The default U-Net's training speed on every installed Keras backend, side by side.
bench-backends: dev
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

$(WORK)/scenes128/manifest.json: | install
	$(BIN)/colorize prepare $(DATA)/scenes/images -o $(WORK)/scenes128
data: $(WORK)/scenes128/manifest.json

# The recipe of the bundled default model: the U-Net trunk with Zhang et al.'s bins head
# (unet_classification), rebalanced cross-entropy, faces + scenes half and half. Stage 1 at
# 64 px, stages 2-4 at 128 px (the fourth at batch 32, a lower learning rate, no augmentation), each resumable
# (re-running continues an interrupted stage and leaves a finished one as it is);
# bfloat16 only where the CPU has it (AVX-512 BF16 / AMX). INIT is where stage 1 starts:
# `default` continues the committed model (more training on top of what it has seen, see its
# model card); `none` starts from scratch. Training uses mild class rebalancing (REBALANCE, 1 =
# none: accurate bin probabilities); the export decodes as if trained with DECODE_REBALANCE at
# TEMPERATURE (vivid), both chosen on the val splits by `make decode-sweep`.
INIT ?= default
EPOCHS64 ?= 5
EPOCHS128 ?= 4
EPOCHS128B ?= 5
EPOCHS128C ?= 5
LR64 ?= 5e-4
LR128 ?= 2e-4
LR128B ?= 1e-4
LR128C ?= 5e-5
REBALANCE ?= 0.9
DECODE_REBALANCE ?= 0.5
TEMPERATURE ?= 0.38
BF16 := $(shell grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo 2>/dev/null && echo --mixed-precision)
# The committed default's architecture (stage 8: 22 base filters, the image-level vector), so INIT=default
# continues it; stages 1-6 were trained at 16 base filters without the vector (its model card).
BINS := $(WORK)/faces128 $(WORK)/scenes128 --mix 0.5,0.5 --model unet_classification --option base_filters=22 \
	--option global_context=true --loss rebalanced_crossentropy --rebalance $(REBALANCE) --batch-size 16 --augment $(BF16)
STAGE64 := $(WORK)/runs/default-bins64
STAGE128 := $(WORK)/runs/default-bins128
STAGE128B := $(WORK)/runs/default-bins128b
STAGE128C := $(WORK)/runs/default-bins128c
default-stages: data
	if [ -f $(STAGE64)/config.json ]; then $(BIN)/colorize train --resume $(STAGE64); \
	else $(BIN)/colorize train $(BINS) --image-size 64 --steps-per-epoch 500 --epochs $(EPOCHS64) --learning-rate $(LR64) \
	  $(if $(filter none,$(INIT)),,--init-weights $(INIT)) -o $(STAGE64); fi
	if [ -f $(STAGE128)/config.json ]; then $(BIN)/colorize train --resume $(STAGE128); \
	else $(BIN)/colorize train $(BINS) --image-size 128 --steps-per-epoch 250 --epochs $(EPOCHS128) \
	  --learning-rate $(LR128) --init-weights $(STAGE64) -o $(STAGE128); fi
	if [ -f $(STAGE128B)/config.json ]; then $(BIN)/colorize train --resume $(STAGE128B); \
	else $(BIN)/colorize train $(BINS) --image-size 128 --steps-per-epoch 250 --epochs $(EPOCHS128B) \
	  --learning-rate $(LR128B) --init-weights $(STAGE128) -o $(STAGE128B); fi
	if [ -f $(STAGE128C)/config.json ]; then $(BIN)/colorize train --resume $(STAGE128C); \
	else $(BIN)/colorize train $(BINS) --no-augment --image-size 128 --batch-size 32 --steps-per-epoch 250 --epochs $(EPOCHS128C) \
	  --validation-steps 40 --seed 6 --learning-rate $(LR128C) --init-weights $(STAGE128B) -o $(STAGE128C); fi
default-model: default-stages
	$(BIN)/colorize export $(STAGE128C) -o $(WORK)/default-candidate.keras --temperature $(TEMPERATURE) \
	  --rebalance $(DECODE_REBALANCE) --overwrite
	$(BIN)/colorize evaluate $(WORK)/default-candidate.keras default $(WORK)/scenes128 --split test --baselines --overwrite -o $(WORK)/reports/default-scenes
	$(BIN)/colorize evaluate $(WORK)/default-candidate.keras default $(WORK)/hf128 --split test --baselines --overwrite -o $(WORK)/reports/default-hf
	cp $(WORK)/default-candidate.keras colorize/assets/default.keras
	$(MAKE) default-onnx

# The bundled default for ONNX Runtime (what predict and serve run), made from default.keras
# and never edited by hand: `colorize export` cuts the bins network at its probabilities and
# stores the decoding in the file's metadata (tests/test_onnx.py checks the two agree).
colorize/assets/default.onnx: colorize/assets/default.keras | install
	$(BIN)/colorize export default -o $@ --format onnx --overwrite
default-onnx: colorize/assets/default.onnx

# The face pass's detector (MTCNN, colorize/assets/faces/): facenet-pytorch's weights, read
# without PyTorch and rewritten as gray-input ONNX graphs (colorize/data/mtcnn_export.py).
FACENET_PYTORCH ?= facenet-pytorch==2.6.0
face-detector: install
	rm -rf $(WORK)/facenet && mkdir -p $(WORK)/facenet
	$(BIN)/pip download --no-deps --only-binary :all: "$(FACENET_PYTORCH)" -d $(WORK)/facenet
	cd $(WORK)/facenet && $(abspath $(BIN))/python -m zipfile -e *.whl .
	$(BIN)/python -m colorize.data.mtcnn_export $(WORK)/facenet/facenet_pytorch/data colorize/assets/faces

# The decoding of the last stage chosen on the VAL splits (never test): each DECODE_REBALANCE x
# TEMPERATURE candidate exported and evaluated side by side: work/sweep/{scenes,hf}/report.md.
SWEEP_REBALANCE ?= 0.7 0.6 0.5 0.4
SWEEP_TEMPERATURE ?= 0.25 0.38
$(STAGE128C)/best.keras:
	$(MAKE) default-stages
decode-sweep: $(STAGE128C)/best.keras
	mkdir -p $(WORK)/sweep
	for r in $(SWEEP_REBALANCE); do for t in $(SWEEP_TEMPERATURE); do \
	  $(BIN)/colorize export $(STAGE128C) -o $(WORK)/sweep/r$${r}_t$${t}.keras --temperature $$t --rebalance $$r --overwrite; \
	done; done
	$(BIN)/colorize evaluate $(WORK)/sweep/r*.keras $(WORK)/scenes128 --split val --baselines --overwrite -o $(WORK)/sweep/scenes
	$(BIN)/colorize evaluate $(WORK)/sweep/r*.keras $(WORK)/hf128 --split val --baselines --overwrite -o $(WORK)/sweep/hf

# The objective study (issue: colour quality): four objectives under one budget (20,480 images
# at 64 px, faces + scenes), evaluated side by side on both test splits: work/compare/summary.md.
compare: data
	$(BIN)/python benchmarks/compare_models.py $(WORK)/faces128 $(WORK)/scenes128 --mix 0.5,0.5 \
	  --eval-data $(WORK)/scenes128 --eval-data $(WORK)/hf128 --steps 1280 --epochs 4 --image-size 64 $(BF16) \
	  --models unet:l1,classification,unet_classification,unet_classification:rebalanced_crossentropy_l1 -o $(WORK)/compare

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
