# The whole test suite: every module in the repository, with the race detector.
# Integration tests need VictoriaLogs (PIPELOG_VICTORIALOGS_URL) and RabbitMQ
# (127.0.0.1:5672); without them they skip with a message, except under
# CI=true, where they fail. .ci/run starts both, then runs `make test`.
GO ?= go
MODULES := . examples/streaming benchmarks

.PHONY: test vet fmt bench run

test: vet
	@set -e; for m in $(MODULES); do \
		if [ -f $$m/go.mod ]; then \
			echo "== go test $$m"; \
			(cd $$m && $(GO) test -race -count=1 -timeout 20m ./...); \
		fi; \
	done

vet:
	@set -e; test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	@set -e; for m in $(MODULES); do \
		if [ -f $$m/go.mod ]; then (cd $$m && $(GO) vet ./...); fi; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	cd benchmarks && $(GO) test -run '^$$' -bench . -benchmem ./...

run:
	$(GO) run ./examples/batch
