# Waymark: `make run` (the whole stack in the foreground) and `make test` (everything, against
# a separate test instance). See README.md.
SHELL := /bin/bash
# Swift at /opt/swift is enough: it need not be on PATH.
export PATH := /opt/swift/usr/bin:$(PATH)
SWIFT ?= swift
BUILD_FLAGS := -c release

.PHONY: run up up-ha test-ha down test bench build deps clean-var help fuzz lint format backup check-deploy

help:
	@echo "make run | up | up-ha | down | test | test-ha | bench | build | fuzz | backup"

deps:
	@scripts/deps.sh

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

run: build
	@scripts/stack.sh run

up: build
	@scripts/stack.sh up

down:
	@scripts/stack.sh down

# The stack on PostgreSQL with a synchronous standby (Patroni + etcd on loopback, docs/ha.md).
up-ha: build
	@WAYMARK_HA=1 scripts/stack.sh up

# Failover under load: kill -9 of the primary while clicks flow (Tests/HA/failover.sh).
test-ha: build
	@Tests/HA/failover.sh

# One release build serves both the stack's binary and the tests (no second build).
test: deps lint
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	@scripts/test.sh

bench: build
	@scripts/bench.sh

# The server install (deploy/, docs/operations.md) in a throwaway root; make test runs it too.
check-deploy: build
	@scripts/check_deploy.sh

# A pgBackRest backup of the make run instance's embedded PostgreSQL (docs/backups.md).
backup:
	@scripts/backup.sh backup

# libFuzzer (with ASan/LSan) over every parser of outside bytes, FUZZ_SECONDS (60) per target,
# from the seed corpus in Tests/Fuzz/corpus. Builds only the parsers, in .build-fuzz/.
fuzz:
	@scripts/fuzz.sh $${FUZZ_SECONDS:-60}

# Removes the test and bench instances' data (never the data of `make run`).
clean-var:
	WAYMARK_INSTANCE=test scripts/stack.sh down; WAYMARK_INSTANCE=bench scripts/stack.sh down
	rm -rf var/test var/bench-stack

# swift format (the toolchain's) with the committed .swift-format: `make lint` fails when it
# would change a file (make test runs it first); `make format` rewrites them.
FORMATTED := Sources Tests Package.swift
lint:
	$(SWIFT) format lint --strict --recursive --parallel $(FORMATTED)

format:
	$(SWIFT) format format --in-place --recursive --parallel $(FORMATTED)
