# Heroku AppLink Service Mesh buildpack. `make help` lists the targets.

GO ?= go
export PATH := $(PATH):/usr/local/go/bin

ARCHES := amd64 arm64
# Every package's tests but the end-to-end and pack suites.
UNIT_PKGS = $(shell $(GO) list ./... | grep -v -e /test/e2e -e /test/pack)

# pack, built from the tools module (test/tools) once per pin of it.
PACK_VERSION := 0.38.2
PACK = .build/tools/pack-$(shell sha256sum test/tools/go.sum | cut -c1-12)/pack

# Each fuzz target runs a number of new inputs (package:Target:count, about
# 10 s of each here), not a wall-clock time: go1.26's fuzz coordinator can
# fail a target with "context deadline exceeded" and no finding when a
# -fuzztime or -fuzzminimizetime duration ends (golang/go#75804, fixed in
# go1.27). FUZZTIME=30s (or 100000x) overrides every count.
FUZZTIME ?=
FUZZ_TARGETS := internal/inventory:FuzzParseRequest:60000 internal/inventory:FuzzParse:100000 \
	internal/advice:FuzzProcfile:50000 internal/config:FuzzEnvDir:3000 internal/config:FuzzKnobs:50000 \
	internal/install:FuzzIndex:3000 internal/cnb:FuzzLayerMetadata:9000 internal/advice:FuzzMeshConfig:4000

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
SHELL_SCRIPTS := bin/detect bin/compile bin/release bin/report bin/build lib/shim.sh lib/build.sh test/reproducible.sh .ci/run

.PHONY: lint bench fuzz help build binaries release-binaries package release-check test unit e2e test-pack demo demo-cnb demo-pack pin verify-reproducible vet fmt clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

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

package: binaries $(PACK) ## Write the classic tarball, the per-target CNB directories and pack's .cnb buildpackages into dist/
	@$(GO) run ./cmd/heroku-applink-release package . dist/bin dist $(PACK)

release-check: binaries ## Check a release commit: version, CHANGELOG, inventory, committed binaries = this source's build
	@$(GO) run ./cmd/heroku-applink-release check . dist/bin

verify-reproducible: ## Build twice from two clean clones of HEAD and check the binaries are byte-identical
	@sh test/reproducible.sh

pin: ## Pin a release in inventory.toml: make pin VERSION=v1.2.3 [MIRROR=https://...] [DRY_RUN=1]
	@test -n "$(VERSION)" || { echo "usage: make pin VERSION=v1.2.3 [MIRROR=https://...] [DRY_RUN=1]"; exit 2; }
	@$(GO) run ./cmd/heroku-applink-pin $(if $(MIRROR),--mirror $(MIRROR)) $(if $(DRY_RUN),--dry-run) $(VERSION)

test: vet unit e2e ## Run every test: go vet, the unit tests, the end-to-end suite

unit: ## Run every package's tests but the end-to-end suite (under a minute)
	$(GO) test -count=1 -timeout 5m $(UNIT_PKGS)

e2e: ## Run the end-to-end suite: the real bin/* against fixture apps, the CNB lifecycle, packaging
	$(GO) test -count=1 -timeout 20m ./test/e2e

test-pack: $(PACK) ## Build and boot the sample app with the real pack CLI and podman (needs podman, runc, mmdebstrap)
	HEROKU_APPLINK_TEST_PACK=$(CURDIR)/$(PACK) $(GO) test -count=1 -timeout 20m -v ./test/pack

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

lint: vet ## go vet, staticcheck (pinned), and shellcheck and shfmt over the shims and scripts
	$(GO) run $(STATICCHECK) ./...
	@command -v shellcheck >/dev/null && command -v shfmt >/dev/null || { echo "make lint needs shellcheck and shfmt (apt-get install shellcheck shfmt)"; exit 1; }
	shellcheck -x $(SHELL_SCRIPTS)
	shfmt -d $(SHELL_SCRIPTS)

fmt: ## Format the Go sources and the shell scripts
	gofmt -w cmd internal test
	@command -v shfmt >/dev/null && shfmt -w $(SHELL_SCRIPTS) || true

clean: ## Remove build output
	rm -rf .build dist
