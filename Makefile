# The two commands a newcomer needs: `make dev` and `make test`.
GO ?= go
export GOFLAGS ?= -buildvcs=false
# The approved Go release with the standard library's security fixes; machines start on an
# older Go and ignore go.mod's toolchain line, so every target asks for it (fetched once
# from the module proxy, about 10 s).
export GOTOOLCHAIN := go1.27.3

.PHONY: dev test deps generate check-generated tidy-check vulncheck vet lint build bench fuzz screenshots

## dev: run the console with a private Postgres, the WeChat simulator and demo data
dev:
	@.ci/install-deps postgres
	$(GO) run ./cmd/trafficmaster dev

## test: install what the tests need, vet, lint, check generated code and go.mod, check for
## known vulnerabilities (offline), run every test with -race
test: deps vet lint check-generated tidy-check vulncheck
	$(GO) test -race -count=1 -timeout 30m ./...

deps:
	@.ci/install-deps postgres chromium

vet:
	$(GO) vet ./...

## lint: golangci-lint with .golangci.yml; the linter is pinned in its own module, tools/go.mod,
## so that its many dependencies do not move the console's own in go.mod
lint:
	$(GO) tool -modfile=tools/go.mod golangci-lint run --allow-serial-runners ./...

## screenshots: the browser tests, saving every page at 1440 and 390 px in English and Chinese to screenshots/
screenshots: deps
	TRAFFICMASTER_SCREENSHOTS=$(CURDIR)/screenshots $(GO) test -count=1 -run 'TestBrowser' ./web/

## generate: regenerate templ code
generate:
	$(GO) tool templ generate

## check-generated: fail when regenerating would change committed files
check-generated:
	@$(GO) tool templ generate >/dev/null 2>&1
	@if ! git diff --quiet -- '*_templ.go' || [ -n "$$(git ls-files --others --exclude-standard -- '*_templ.go')" ]; then \
		echo "Generated templ code is stale; run 'make generate' and commit:"; git status --short -- '*_templ.go'; exit 1; fi
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

## tidy-check: fail when go.mod or go.sum (the console's or the tools') are not tidy
tidy-check:
	$(GO) mod tidy -diff
	cd tools && $(GO) mod tidy -diff

## vulncheck: govulncheck against the vulnerability database from the golang.org/x/vulndb
## module (offline); fails on anything not accepted in .ci/govulncheck-allow
vulncheck:
	@GO=$(GO) .ci/vulncheck

build:
	$(GO) build -o bin/trafficmaster ./cmd/trafficmaster

## bench: the benchmarks behind BENCHMARKS.md
bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz: run each fuzz target for a while (their seed corpora run in `make test`)
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzOpen -fuzztime 30s ./internal/wechat/
	$(GO) test -run '^$$' -fuzz FuzzDecodeReply -fuzztime 30s ./internal/wechat/
	$(GO) test -run '^$$' -fuzz FuzzParseEvent -fuzztime 30s ./internal/wechat/
	$(GO) test -run '^$$' -fuzz FuzzPlainImageURL -fuzztime 30s ./internal/wechat/
