# Analemma — build, test and run on the local stack. `make help` lists targets.
SHELL := /bin/bash
PORT ?= 4566
TEST_PORT ?= 4580
TEST_STATE ?= .local/test
AUTH_PORT ?= 4590
TLS_PORT ?= 4592
PYTEST_ARGS ?= Tests/integration
STACK_ARGS ?=
CHAOS_RATES ?= 0.05 0.20
CHAOS_SEED ?= 20261201
AWS_IT_FILTER ?= AWSIntegrationTests|CommitFaultPlanTests|GCFaultPlanTests|SweepFaultPlanTests|ConcurrencyTests
FUZZ_SECONDS ?= 60
VENV := .venv
PY := $(VENV)/bin/python
BIN := .build/release
RELEASE_FLAGS := -c release -Xswiftc -static-executable
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := zlib1g-dev libssl-dev openssl chromium python3-venv
STACK := $(PY) Deploy/local/stack.py
# Arize Phoenix, a real OTLP collector, in its own venv (~850 MB; its pins clash with ours). `make integration`
# starts it with the stack and the tracing tests read spans back from it; PHOENIX= turns it off.
PHOENIX_VENV := .venv-phoenix
PHOENIX_VERSION := 20.26.1
PHOENIX ?= $(PHOENIX_VENV)/bin/phoenix

.PHONY: api-check schema catalogue continue-as-new chaos fuzz reliability package-build package-check compat-check deploy undeploy lint-template help deps apt-deps build unit integration aws-integration test package local-up local-down demo run validate codesign sweep bench format lint clean
WORKFLOW ?= Deploy/examples/workflows/linear-5.json
INPUT ?= {"topic": "solar power"}
OWNER ?= demo

help:
	@echo "make demo        start the local stack and run the demo (the most complete thing so far)"
	@echo "make test        everything CI runs: unit tests + integration tests on a fresh local stack"
	@echo "make build       static release binaries in $(BIN) (what tests, bench and package use)"
	@echo "make package     one Lambda zip per Functions/<name> in Deploy/dist/ (package-check: are they deployable;"
	@echo "                 compat-check: run them in an older Debian chroot with DNS + HTTPS)"
	@echo "make deploy      package, upload, deploy Deploy/template.yaml with the aws CLI (undeploy removes the stack)"
	@echo "make local-up    start the local stack on :$(PORT) (local-down stops it)"
	@echo "make run         run WORKFLOW=<file> with INPUT='<json>' [ANSWER='<json>'] via the aws CLI on the local stack"
	@echo "make validate    check workflow files (FILES=…, default: the examples) as the segment runner does"
	@echo "make codesign    DESCRIBE='…': draft a workflow with the model (Google with GEMINI_API_KEY, else the local stand-in)"
	@echo "make sweep       run the GC sweeper once on the local stack (roll back interrupted commits, queue unreachable blocks)"
	@echo "make bench       benchmarks, one JSON object per line"
	@echo "make reliability fault plans, concurrency, bad input and fuzzing: the figures (0 violations, 0 crashes)"
	@echo "make fuzz        libFuzzer over the decoders and every function's handler for FUZZ_SECONDS (60)"
	@echo "make chaos       the end-to-end workflows with AWS's faults injected at CHAOS_RATES (5 % and 20 %)"

deps: apt-deps $(VENV)/.stamp

apt-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi

$(VENV)/.stamp: Deploy/local/requirements.txt Deploy/local/constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r Deploy/local/requirements.txt -c Deploy/local/constraints.txt
	touch $@

$(PHOENIX_VENV)/.stamp:
	python3 -m venv $(PHOENIX_VENV)
	$(PHOENIX_VENV)/bin/python -m pip install -q --disable-pip-version-check arize-phoenix==$(PHOENIX_VERSION)
	touch $@

build: apt-deps
	swift build $(RELEASE_FLAGS)

# A hung test must fail CI quickly rather than eat its 90 minutes.
unit: apt-deps
	timeout 900 swift test

# Integration tests start their own stack on TEST_PORT (so a dev stack on PORT is left alone) and always stop it.
integration: deps build $(if $(PHOENIX),$(PHOENIX_VENV)/.stamp)
	@$(STACK) down --state-dir $(TEST_STATE) >/dev/null
	@rm -rf $(TEST_STATE)
	$(STACK) up --port $(TEST_PORT) --state-dir $(TEST_STATE) $(if $(PHOENIX),--phoenix $(PHOENIX)) $(STACK_ARGS)
	@status=0; ANALEMMA_ENDPOINT=http://127.0.0.1:$(TEST_PORT) ANALEMMA_STATE_DIR=$(TEST_STATE) ANALEMMA_BIN_DIR=$(BIN) \
	  $(PY) -m pytest $(PYTEST_ARGS) -q -p no:cacheprovider || status=$$?; \
	$(STACK) down --state-dir $(TEST_STATE); exit $$status

# The Swift AWS clients against a stack with moto's SigV4 checking on (IAM user created by aws_fixture.py).
aws-integration: deps build
	@$(STACK) down --state-dir .local/auth >/dev/null
	@rm -rf .local/auth
	$(STACK) up --port $(AUTH_PORT) --state-dir .local/auth --auth
	@mkdir -p .local/auth/tls && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout .local/auth/tls/key.pem -out .local/auth/tls/cert.pem 2>/dev/null
	@$(PY) Deploy/local/tls_proxy.py --listen $(TLS_PORT) --target $(AUTH_PORT) --cert .local/auth/tls/cert.pem \
	  --key .local/auth/tls/key.pem & echo $$! > .local/auth/tls/proxy.pid
	@status=0; eval "$$($(PY) Tests/integration/aws_fixture.py --endpoint http://127.0.0.1:$(AUTH_PORT) --auth --state-dir .local/auth)" \
	  && echo "-- over HTTP" && ANALEMMA_IT_REQUIRED=1 timeout 900 swift test --filter "$(AWS_IT_FILTER)" \
	  && echo "-- over HTTPS (OpenSSL, SNI, verification)" && ANALEMMA_IT_ENDPOINT=https://localhost:$(TLS_PORT) \
	     ANALEMMA_IT_CA=$(CURDIR)/.local/auth/tls/cert.pem ANALEMMA_IT_REQUIRED=1 timeout 900 swift test --filter "$(AWS_IT_FILTER)" \
	  || status=$$?; \
	kill $$(cat .local/auth/tls/proxy.pid) 2>/dev/null; $(STACK) down --state-dir .local/auth; exit $$status

test: lint unit api-check integration continue-as-new aws-integration

# The library's public API as a user's package sees it (Tests/ExternalConsumer: a custom skill, a typed handler,
# the segment runner): `package` declarations are invisible there, so this fails when the API loses what users need.
api-check: apt-deps
	swift build --package-path Tests/ExternalConsumer --scratch-path .build-consumer

# Continue-as-new on a stack whose history limit is lowered (the segment runner follows it): a 600-segment loop
# here, 10,000 segments in `make reliability` (CONTINUE_LONG=1).
HISTORY_LIMIT ?= 1000
continue-as-new: deps build
	ANALEMMA_HISTORY_LIMIT=$(HISTORY_LIMIT) ANALEMMA_LONG=$(CONTINUE_LONG) $(MAKE) --no-print-directory integration PHOENIX= \
	  STACK_ARGS="--history-limit $(HISTORY_LIMIT)" PYTEST_ARGS="Tests/integration/test_continue_as_new.py -s"

# Deploy bundles. With a static Linux (musl) Swift SDK installed, `make package` builds with it; otherwise it
# packages the host build, which is already a fully static glibc executable (-static-executable: no shared
# libraries, no glibc version requirement; DNS through glibc's built-in files/dns resolver - see compat-check).
STATIC_SDK := $(shell swift sdk list 2>/dev/null | grep -m1 -o '[^ ]*static-linux[^ ]*')
ifneq ($(STATIC_SDK),)
PACKAGE_BIN := .build/x86_64-swift-linux-musl/release
package-build:
	swift build -c release --swift-sdk $(STATIC_SDK)
else
PACKAGE_BIN := $(BIN)
package-build: build
endif

package: package-build deps
	$(PY) Deploy/package.py --bin-dir $(PACKAGE_BIN) --out Deploy/dist --functions-dir Functions

# Every zip: bootstrap at the root, executable, static or needing glibc <= 2.26 (provided.al2).
package-check: package
	$(PY) Deploy/package_check.py Deploy/dist

# libFuzzer over the kernel's decoders (Tests/Fuzz) for FUZZ_SECONDS; findings kept in .local/fuzz/findings.
fuzz: $(VENV)/.stamp
	swift build -c release --product analemma-fuzz --sanitize fuzzer -Xswiftc -DANALEMMA_FUZZ --build-path .build-fuzz
	$(PY) Tests/Fuzz/run.py --seconds $(FUZZ_SECONDS)

# Chaos: the end-to-end workflows on a stack injecting AWS's documented faults into the product's calls, once per
# rate (a fresh stack each, seeded); prints executions correct / total and invariant violations per rate.
chaos: deps build
	@mkdir -p .local && rm -f .local/chaos.jsonl
	@for rate in $(CHAOS_RATES); do echo "-- chaos at $$rate (seed $(CHAOS_SEED))"; \
	  ANALEMMA_CHAOS=$$rate ANALEMMA_CHAOS_REPORT=$(CURDIR)/.local/chaos.jsonl $(MAKE) --no-print-directory integration PHOENIX= \
	    PYTEST_ARGS="Tests/integration/test_chaos.py -s" STACK_ARGS="--chaos $$rate,$(CHAOS_SEED)" || exit 1; done
	@$(PY) Tests/chaos_report.py .local/chaos.jsonl

# The reliability figures: every fault plan and concurrency suite (over HTTP and HTTPS), the bad-input corpus, a
# bounded fuzz run; prints scenarios, fault points, bad inputs, violations and crashes (both must be 0).
reliability: deps build
	@mkdir -p .local && rm -f .local/reliability.jsonl
	ANALEMMA_RELIABILITY_REPORT=$(CURDIR)/.local/reliability.jsonl $(MAKE) --no-print-directory aws-integration \
	  AWS_IT_FILTER="CommitFaultPlanTests|GCFaultPlanTests|SweepFaultPlanTests|ConcurrencyTests"
	ANALEMMA_RELIABILITY_REPORT=$(CURDIR)/.local/reliability.jsonl ANALEMMA_LONG=1 $(MAKE) --no-print-directory integration PHOENIX= \
	  PYTEST_ARGS="Tests/integration/test_bad_input.py Tests/integration/test_forged_identifiers.py Tests/integration/test_instance_death.py Tests/integration/test_long_runs.py"
	ANALEMMA_RELIABILITY_REPORT=$(CURDIR)/.local/reliability.jsonl $(MAKE) --no-print-directory continue-as-new CONTINUE_LONG=1
	ANALEMMA_RELIABILITY_REPORT=$(CURDIR)/.local/reliability.jsonl $(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)
	$(PY) Tests/reliability_report.py .local/reliability.jsonl

# AWS: STACK, AWS_REGION, ARTIFACT_BUCKET (required), RUNTIME, MODEL_PROVIDER, GEMINI_SECRET, FUNCTION_TRACING,
# OTLP_ENDPOINT, OTLP_HEADERS_SECRET (see README "Deploying").
deploy: package-check
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) Deploy/deploy.py deploy

undeploy: $(VENV)/.stamp
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) Deploy/deploy.py undeploy

# Runs each zip's bootstrap in a Debian bullseye chroot (glibc 2.31): DNS and verified HTTPS. Root + debootstrap.
compat-check: package
	@command -v debootstrap >/dev/null || ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq debootstrap >/dev/null)
	$(SUDO) $(PY) Deploy/compat_check.py --dist Deploy/dist --rootfs .local/bullseye

local-up: deps build
	$(STACK) up --port $(PORT)

local-down: deps
	$(STACK) down

demo: local-up
	$(PY) Deploy/local/demo.py --endpoint http://127.0.0.1:$(PORT)

# A workflow file through the state machine with the aws CLI (Deploy/run.py --help for AWS and more answers).
# Exit 2 from run.py (waiting for a human: the question and the command to answer it are printed) is not a failure here.
run: local-up
	@rc=0; $(PY) Deploy/run.py $(WORKFLOW) --input '$(INPUT)' --owner $(OWNER) --endpoint http://127.0.0.1:$(PORT) \
	  $(if $(ANSWER),--answer '$(ANSWER)') || rc=$$?; [ $$rc -eq 2 ] && exit 0; exit $$rc

FILES ?= $(filter-out %schema.json,$(wildcard Deploy/examples/workflows/*.json))
validate: build
	$(BIN)/analemma validate $(FILES)

# The published workflow schema's node types and per-type rules, regenerated from NodeKinds (a unit test holds it).
SCHEMA = Deploy/examples/workflows/workflow.schema.json
schema: build
	$(BIN)/analemma schema $(SCHEMA) > $(SCHEMA).new && mv $(SCHEMA).new $(SCHEMA)

# The glass-box README's event catalogue, regenerated from EventKind (a unit test holds it).
CATALOGUE = Sources/Analemma/GlassBox/README.md
catalogue: build
	$(BIN)/analemma catalogue $(CATALOGUE) > $(CATALOGUE).new && mv $(CATALOGUE).new $(CATALOGUE)

# The model catalog is the segment runner's (function.json); with GEMINI_API_KEY set the request goes to Google.
CATALOG = $$($(PY) -c 'import json; print(json.load(open("Functions/segment-runner/function.json"))["environment"]["MODEL_CATALOG"]["default"])')
codesign: deps build
	@if [ -n "$$GEMINI_API_KEY" ]; then endpoint=https://generativelanguage.googleapis.com; key=$$GEMINI_API_KEY; \
	  else $(MAKE) -s local-up >/dev/null; endpoint=http://127.0.0.1:$(PORT); key=local-standin-key; fi; \
	  MODEL_PROVIDER=gemini MODEL_CATALOG="$(CATALOG)" GEMINI_ENDPOINT=$$endpoint GEMINI_API_KEY=$$key \
	  $(BIN)/analemma codesign "$(DESCRIBE)" $(if $(OUT),--out $(OUT))

sweep: local-up
	@$(PY) -c 'import boto3, json; r = boto3.client("lambda", endpoint_url="http://127.0.0.1:$(PORT)", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test").invoke(FunctionName="gc-worker", Payload=b"{\"action\": \"sweep\"}"); print(json.dumps(json.loads(r["Payload"].read()), indent=2))'

# One JSON line per measurement (also in .local/bench.jsonl); docs/benchmarks.md is generated from them.
bench: deps build
	@mkdir -p .local
	$(PY) Bench/run.py --bin-dir $(BIN) $(if $(BENCH_PORT),--port $(BENCH_PORT)) --out .local/bench.jsonl
	$(PY) Bench/page.py .local/bench.jsonl > docs/benchmarks.md

format:
	swift format --in-place --recursive Package.swift Sources Tests Bench/aws-bench $(wildcard Functions/*/*.swift)

lint: lint-template
	swift format lint --strict --recursive Package.swift Sources Tests Bench/aws-bench $(wildcard Functions/*/*.swift)

# cfn-lint (pinned in Deploy/local/requirements.txt): errors fail, warnings are shown (W1030: provided.al2 is
# deprecated - it stays selectable for existing stacks, provided.al2023 is the default).
lint-template: $(VENV)/.stamp
	@rc=0; $(VENV)/bin/cfn-lint Deploy/template.yaml || rc=$$?; \
	if [ $$((rc & 3)) -ne 0 ]; then echo "cfn-lint: errors in Deploy/template.yaml"; exit 1; fi; echo "cfn-lint: Deploy/template.yaml has no errors"
	$(PY) Deploy/lint_policies.py

clean:
	rm -rf .build .build-fuzz .build-consumer .local Deploy/dist Bench/bin
