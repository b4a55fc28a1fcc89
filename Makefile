# Heroku AppLink Service Mesh buildpack. `make help` lists the targets.

GO ?= go
export PATH := $(PATH):/usr/local/go/bin

# The buildpack's version, stamped into the binary; release builds must be
# reproducible, so nothing else about the build machine or time goes in.
BP_VERSION := $(shell sed -n 's/^version *= *"\([^"]*\)".*/\1/p' buildpack.toml | head -n 1)
ARCHES := amd64 arm64
LDFLAGS := -s -w -buildid= -X main.version=$(BP_VERSION)

FUZZTIME ?= 10s
FUZZ_TARGETS := internal/inventory:FuzzParseRequest internal/inventory:FuzzParse internal/procfile:FuzzProcfile internal/config:FuzzEnvDir

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: lint bench fuzz help build binaries release-binaries package release-check test demo demo-cnb pin verify-reproducible vet fmt clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: binaries ## Build the binary the bin/ shims use (.build/) and the release binaries (dist/bin/)
	@sh lib/shim.sh prepare

binaries: ## Cross-compile the release binaries for linux/amd64 and linux/arm64 into dist/bin/
	@for arch in $(ARCHES); do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch GOFLAGS=-mod=readonly $(GO) build -trimpath -buildvcs=false \
			-ldflags "$(LDFLAGS)" -o dist/bin/linux-$$arch/heroku-applink-buildpack ./cmd/heroku-applink-buildpack || exit 1; \
	done

release-binaries: binaries ## Put the release binaries where a release commit carries them (lib/linux-<arch>/)
	@for arch in $(ARCHES); do \
		mkdir -p lib/linux-$$arch && cp dist/bin/linux-$$arch/heroku-applink-buildpack lib/linux-$$arch/ || exit 1; \
	done

package: binaries ## Write the classic tarball and the per-target CNB packages into dist/
	@$(GO) run ./cmd/heroku-applink-release package . dist/bin dist

release-check: binaries ## Check a release commit: version, CHANGELOG, TOML form, committed binaries = this source's build
	@$(GO) run ./cmd/heroku-applink-release check . dist/bin

verify-reproducible: ## Build twice from two clean clones of HEAD and check the binaries are byte-identical
	@sh test/reproducible.sh

pin: ## Pin a release in buildpack.toml: make pin VERSION=v1.2.3 [MIRROR=https://...] [DRY_RUN=1]
	@test -n "$(VERSION)" || { echo "usage: make pin VERSION=v1.2.3 [MIRROR=https://...] [DRY_RUN=1]"; exit 2; }
	@$(GO) run ./cmd/heroku-applink-pin $(if $(MIRROR),--mirror $(MIRROR)) $(if $(DRY_RUN),--dry-run) $(VERSION)

test: vet ## Run every test: unit, end-to-end
	$(GO) test -count=1 -timeout 15m ./...

fuzz: ## Run each fuzz target for FUZZTIME (10s) on top of its committed seed corpus
	@for target in $(FUZZ_TARGETS); do \
		pkg=$${target%%:*}; name=$${target##*:}; \
		echo "-----> $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test ./$$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

bench: ## Measure builds against raw downloads and cached rebuilds; writes docs/BENCHMARKS.md (not part of make test)
	@command -v curl >/dev/null || { echo "make bench needs curl (apt-get install curl)"; exit 1; }
	@$(GO) run ./test/bench

demo: ## Deploy a sample app offline, boot it, send requests through the mesh, rebuild
	@$(GO) run ./test/demo

demo-cnb: ## The same with the real CNB lifecycle (builds it once, about a minute)
	@$(GO) run ./test/demo -cnb

vet: ## Check formatting and run go vet
	@test -z "$$(gofmt -l cmd internal test)" || { gofmt -l cmd internal test; echo "run make fmt"; exit 1; }
	$(GO) vet ./...

lint: vet ## go vet and staticcheck (pinned, run through the module proxy)
	$(GO) run $(STATICCHECK) ./...

fmt: ## Format the Go sources
	gofmt -w cmd internal test

clean: ## Remove build output
	rm -rf .build dist
