# Heroku AppLink Service Mesh buildpack. `make help` lists the targets.

GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: help build test demo demo-cnb vet fmt clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## Build the buildpack binary the bin/ shims use (.build/)
	@sh lib/shim.sh prepare

test: vet ## Run every test: unit, end-to-end
	$(GO) test -count=1 -timeout 15m ./...

demo: ## Deploy a sample app offline, boot it, send requests through the mesh, rebuild
	@$(GO) run ./test/demo

demo-cnb: ## The same with the real CNB lifecycle (builds it once, about a minute)
	@$(GO) run ./test/demo -cnb

vet: ## Check formatting and run go vet
	@test -z "$$(gofmt -l cmd internal test)" || { gofmt -l cmd internal test; echo "run make fmt"; exit 1; }
	$(GO) vet ./...

fmt: ## Format the Go sources
	gofmt -w cmd internal test

clean: ## Remove build output
	rm -rf .build dist
