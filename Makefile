# The whole test suite: every module in the repository.
#
#   make test   gofmt, go vet, go generate up to date, then (each go test
#               through internal/testsummary, which shows every skip and
#               its reason, and every failure)
#               1. go test -race over every module (integration tests need
#                  VictoriaLogs, PIPELOG_VICTORIALOGS_URL, RabbitMQ on
#                  127.0.0.1:5672, and a Filebeat binary, PIPELOG_FILEBEAT;
#                  without them they skip with a message, except under
#                  CI=true, where they fail; .ci/run provides all three);
#               2. the allocation tests (named *Alloc*) again without -race,
#                  which allocates on its own;
#               3. the root module once more with -d=checkptr on every package,
#                  which checks each unsafe.Pointer conversion at run time.
GO ?= go
MODULES := . examples/streaming benchmarks
TESTFLAGS ?= -count=1 -timeout 20m
# Every go test's -json output goes through testsummary, which prints each
# package's result, failing tests' output and every skip with its reason
# (plain go test hides skips), and fails when anything did.
SUMMARY := bin/testsummary

.PHONY: test vet generate-check race alloc checkptr bench run

test: vet generate-check race alloc checkptr

$(SUMMARY): internal/testsummary/main.go
	@$(GO) build -o $@ ./internal/testsummary

race: $(SUMMARY)
	@set -e; for m in $(MODULES); do \
		echo "== go test -race $$m"; \
		(cd $$m && $(GO) test -json -race $(TESTFLAGS) ./...) | $(SUMMARY); \
	done

alloc: $(SUMMARY)
	@set -e; for m in $(MODULES); do \
		echo "== go test -run Alloc $$m (without -race)"; \
		(cd $$m && $(GO) test -json $(TESTFLAGS) -run Alloc ./...) | $(SUMMARY); \
	done

checkptr: $(SUMMARY)
	@echo "== go test -gcflags=all=-d=checkptr ."
	@$(GO) test -json $(TESTFLAGS) -gcflags=all=-d=checkptr ./... | $(SUMMARY)

vet:
	@set -e; test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	@set -e; for m in $(MODULES); do \
		(cd $$m && $(GO) vet ./...); \
	done

# go generate must reproduce the checked-in generated files exactly.
generate-check:
	@$(GO) generate ./...
	@git diff --exit-code -- '*_gen.go' || { echo "generated files are stale: run go generate ./... and commit"; exit 1; }

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	cd benchmarks && $(GO) test -run '^$$' -bench . -benchmem ./...

run:
	$(GO) run ./examples/batch
