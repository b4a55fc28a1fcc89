# Heroku AppLink Service Mesh buildpack. `make help` lists the targets.

GO ?= go
export PATH := $(PATH):/usr/local/go/bin

ARCHES := amd64 arm64
# Every package's tests but the end-to-end and pack suites.
UNIT_PKGS = $(shell $(GO) list ./... | grep -v -e /test/e2e -e /test/pack -e /test/shim)

# pack and actionlint, built from the tools module (test/tools) once per
# pin of it.
TOOLS = .build/tools/$(shell sha256sum test/tools/go.sum | cut -c1-12)
PACK_VERSION := 0.38.2
PACK = $(TOOLS)/pack
ACTIONLINT = $(TOOLS)/actionlint

# make test-pack BUILDER=heroku/builder:24 runs the pack suite against that
# builder (pulled, with its own heroku/procfile) instead of the local one
# made from Debian images; ENGINE=docker uses a Docker daemon instead of a
# podman service of the suite's own.
BUILDER ?=
ENGINE ?= podman

# Each fuzz target runs a number of new inputs (package:Target:count, about
# 10 s of each here), not a wall-clock time: go1.26's fuzz coordinator can
# fail a target with "context deadline exceeded" and no finding when a
# -fuzztime or -fuzzminimizetime duration ends (golang/go#75804, fixed in
# go1.27). FUZZTIME=30s (or 100000x) overrides every count.
FUZZTIME ?=
FUZZ_TARGETS := internal/inventory:FuzzParseRequest:60000 internal/inventory:FuzzParse:100000 \
	internal/advice:FuzzProcfile:50000 internal/config:FuzzEnvDir:3000 internal/fetch:FuzzKnobs:20000 \
	internal/cnb:FuzzLayerMetadata:9000 internal/advice:FuzzMeshConfig:4000

# What the release workflow reads of buildpack.toml (make -s print-NAME): the
# version lib/build.sh stamps, and the image repository.
BUILDPACK_VERSION = $(shell sh lib/build.sh --version)
IMAGE_REPOSITORY = $(shell sed -n '/^\[metadata\.release\.image\]/,/^\[/s/^repository *= *"\([^"]*\)".*/\1/p' buildpack.toml)

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
SHELL_SCRIPTS := bin/detect bin/compile bin/release bin/report bin/build lib/shim.sh lib/build.sh test/reproducible.sh .ci/run \
	test/fixtures/buildpacks/procfile/bin/detect test/fixtures/buildpacks/procfile/bin/build

.PHONY: lint bench fuzz help build binaries release-binaries package release-check test unit e2e test-pack test-shim \
	demo demo-cnb demo-pack pin update-inventory verify-reproducible vet fmt clean

help: ## Show this help
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

build: binaries ## Build the binary the bin/ shims use (.build/) and the release binaries (dist/bin/)
	@sh lib/shim.sh prepare

binaries: ## Cross-compile the release binaries for linux/amd64 and linux/arm64 into dist/bin/
	@for arch in $(ARCHES); do sh lib/build.sh $$arch dist/bin/linux-$$arch/heroku-applink-buildpack || exit 1; done

release-binaries: binaries ## Put the release binaries where a release commit carries them (lib/linux-<arch>/)
	@for arch in $(ARCHES); do \
		mkdir -p lib/linux-$$arch && cp dist/bin/linux-$$arch/heroku-applink-buildpack lib/linux-$$arch/ || exit 1; \
	done

$(PACK):
	@echo "-----> Building pack $(PACK_VERSION) from test/tools (first time only: a few minutes)"
	@cd test/tools && CGO_ENABLED=0 GOFLAGS=-mod=readonly $(GO) build -trimpath -o $(CURDIR)/$(PACK) \
		-ldflags "-X github.com/buildpacks/pack/pkg/client.Version=$(PACK_VERSION)" github.com/buildpacks/pack

$(ACTIONLINT):
	@echo "-----> Building actionlint from test/tools (first time only)"
	@cd test/tools && CGO_ENABLED=0 GOFLAGS=-mod=readonly $(GO) build -trimpath -o $(CURDIR)/$(ACTIONLINT) \
		github.com/rhysd/actionlint/cmd/actionlint

package: binaries $(PACK) ## Write the classic tarball, the per-target CNB directories and pack's .cnb buildpackages into dist/
	@$(GO) run ./cmd/heroku-applink-release package . dist/bin dist $(PACK)

release-check: binaries ## Check a release commit: version, CHANGELOG, a pin per target and the key, binaries = this source's build
	@$(GO) run ./cmd/heroku-applink-release check . dist/bin

verify-reproducible: ## Build twice from two clean clones of HEAD and check the binaries are byte-identical
	@sh test/reproducible.sh

pin: ## Pin a release in inventory.toml: make pin VERSION=v1.2.3 [MIRROR=https://...] [DRY_RUN=1]
	@test -n "$(VERSION)" || { echo "usage: make pin VERSION=v1.2.3 [MIRROR=https://...] [DRY_RUN=1]"; exit 2; }
	@$(GO) run ./cmd/heroku-applink-release pin $(if $(MIRROR),--mirror $(MIRROR)) $(if $(DRY_RUN),--dry-run) $(VERSION)

update-inventory: ## Pin the newest mesh release if it is new, with its CHANGELOG line: make update-inventory [MIRROR=https://...] [DRY_RUN=1]
	@$(GO) run ./cmd/heroku-applink-release update $(if $(MIRROR),--mirror $(MIRROR)) $(if $(DRY_RUN),--dry-run)

test: vet unit e2e ## Run every test: go vet, the unit tests, the end-to-end suite

unit: ## Run every package's tests but the end-to-end suite (under a minute)
	$(GO) test -count=1 -timeout 5m $(UNIT_PKGS)

e2e: ## Run the end-to-end suite: the real bin/* against fixture apps, the CNB lifecycle, packaging
	$(GO) test -count=1 -timeout 20m ./test/e2e

test-pack: $(PACK) ## Build and boot the sample app with the real pack CLI, offline through podman [BUILDER=heroku/builder:24 ENGINE=docker]
	HEROKU_APPLINK_TEST_PACK=$(CURDIR)/$(PACK) HEROKU_APPLINK_TEST_BUILDER=$(BUILDER) HEROKU_APPLINK_TEST_ENGINE=$(ENGINE) \
		$(GO) test -count=1 -timeout 30m -v ./test/pack

test-shim: ## The shims build the binary from source in a scrubbed environment (a few minutes with a cold Go cache)
	$(GO) test -count=1 -timeout 20m ./test/shim

fuzz: ## Run each fuzz target for its count of new inputs (or FUZZTIME) on top of its committed seed corpus
	@for target in $(FUZZ_TARGETS); do \
		pkg=$${target%%:*}; rest=$${target#*:}; name=$${rest%%:*}; count=$${rest#*:}; \
		budget="$(if $(FUZZTIME),$(FUZZTIME),$${count}x)"; \
		echo "-----> $$name ($$pkg, $$budget)"; \
		$(GO) test ./$$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime "$$budget" -fuzzminimizetime 200x || exit 1; \
	done

bench: ## Measure builds against raw downloads and cached rebuilds; writes docs/BENCHMARKS.md (not part of make test)
	@command -v curl >/dev/null || { echo "make bench needs curl (apt-get install curl)"; exit 1; }
	@$(GO) run ./test/bench

demo: ## Deploy a sample app offline, boot it, send requests through the mesh, rebuild
	@$(GO) run ./test/demo

demo-cnb: ## The same with the real CNB lifecycle (builds it once, about a minute)
	@$(GO) run ./test/demo -cnb

demo-pack: $(PACK) ## The same with pack and podman: a .cnb, a builder, pack build, podman run
	@HEROKU_APPLINK_TEST_PACK=$(CURDIR)/$(PACK) $(GO) run ./test/demo -pack

vet: ## Check formatting and run go vet
	@test -z "$$(gofmt -l cmd internal test)" || { gofmt -l cmd internal test; echo "run make fmt"; exit 1; }
	$(GO) vet ./...

lint: vet $(ACTIONLINT) ## gofmt, go vet, staticcheck (pinned), shellcheck and shfmt over the scripts, actionlint over the workflows
	$(GO) run $(STATICCHECK) ./...
	@command -v shellcheck >/dev/null && command -v shfmt >/dev/null || { echo "make lint needs shellcheck and shfmt (apt-get install shellcheck shfmt)"; exit 1; }
	shellcheck -x $(SHELL_SCRIPTS)
	shfmt -d $(SHELL_SCRIPTS)
	$(ACTIONLINT)

fmt: ## Format the Go sources and the shell scripts
	gofmt -w cmd internal test
	@command -v shfmt >/dev/null && shfmt -w $(SHELL_SCRIPTS) || true

clean: ## Remove build output
	rm -rf .build dist

# make -s print-PACK prints a variable (the release workflow finds pack,
# the version and the image repository so).
print-%:
	@echo $($*)
