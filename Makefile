# Heroku AppLink Service Mesh buildpack. `make help` lists the targets.

GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: help build test demo vet fmt clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## Build the buildpack binary the bin/ shims use (.build/)
	@sh lib/shim.sh prepare

test: vet ## Run every test: unit, end-to-end
	$(GO) test -count=1 -timeout 15m ./...

demo: ## Deploy a sample app offline with a loopback mirror and show the log
	@$(GO) run ./test/demo

vet: ## Check formatting and run go vet
	@test -z "$$(gofmt -l cmd internal test)" || { gofmt -l cmd internal test; echo "run make fmt"; exit 1; }
	$(GO) vet ./...

fmt: ## Format the Go sources
	gofmt -w cmd internal test

clean: ## Remove build output
	rm -rf .build dist
