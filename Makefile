# One venv at .venv; every target installs what it needs first.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
QUESTION ?= Why was Kaspersky banned?
STAMP := $(VENV)/.installed

.PHONY: quickstart setup test check format lint types pytest eval fit crossval bench clean

## Set everything up and answer a question from the bundled knowledge.
quickstart: $(STAMP)
	$(BIN)/policy-qa index
	$(BIN)/policy-qa ask "$(QUESTION)"

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# Pinned first: the CPU build of torch 2.13.0 (an unpinned torch pulls a multi-GB CUDA build).
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Format check, lint, tests, types: what CI runs.
test: $(STAMP) format lint pytest types

format: $(STAMP)
	$(BIN)/ruff format --check .

lint: $(STAMP)
	$(BIN)/ruff check .

pytest: $(STAMP)
	$(BIN)/pytest -q

types: $(STAMP)
	$(BIN)/mypy

## Answer quality on every question set in the repository (no ../shared needed), each named first.
eval: $(STAMP)
	@echo "== The article's dev set (fitted on): tests/data/kaspersky-dev.jsonl"
	$(BIN)/policy-qa eval tests/data/kaspersky-dev.jsonl
	@echo "== The article, held out: tests/data/held-out.jsonl"
	$(BIN)/policy-qa eval tests/data/held-out.jsonl
	@echo "== The article, held out (frozen, eval/README.md): eval/article-held-out-2.jsonl"
	$(BIN)/policy-qa eval eval/article-held-out-2.jsonl
	@echo "== A library's rules, held out: tests/data/library-held-out.jsonl on tests/data/library"
	$(BIN)/policy-qa --knowledge tests/data/library eval tests/data/library-held-out.jsonl
	@echo "== Four workplace policies, held out (frozen): eval/workplace-held-out.jsonl on eval/workplace"
	$(BIN)/policy-qa --knowledge eval/workplace eval eval/workplace-held-out.jsonl
	@echo "== Three office policies, held out (frozen): eval/office-held-out.jsonl on eval/office"
	$(BIN)/policy-qa --knowledge eval/office eval eval/office-held-out.jsonl
	@echo "== The article, held out (frozen): eval/article-held-out-3.jsonl"
	$(BIN)/policy-qa eval eval/article-held-out-3.jsonl
	@echo "== Three veterinary group policies, held out (frozen): eval/harbour-held-out.jsonl on eval/harbour"
	$(BIN)/policy-qa --knowledge eval/harbour eval eval/harbour-held-out.jsonl
	@echo "== The article, held out (frozen): eval/article-held-out-4.jsonl"
	$(BIN)/policy-qa eval eval/article-held-out-4.jsonl
	@echo "== Follow-up questions, held out (frozen): eval/dialogues.jsonl"
	$(BIN)/policy-qa eval eval/dialogues.jsonl
	@echo "== PolicyQA dev, 20 privacy policies (17 fitted on): benchmarks/policyqa/dev.json"
	$(BIN)/policy-qa eval benchmarks/policyqa/dev.json

## Refit the adapter, ranker and refusal on the dev sets in the repository (it names them;
## rewrites assistant/ranker.json and assistant/question_adapter.npz), then measure PolicyQA with
## adapters that never saw the policy.
fit: $(STAMP)
	$(BIN)/python -m benchmarks.fit_ranker

crossval: fit
	$(BIN)/python -m benchmarks.crossval

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
