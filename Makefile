# The two commands of the README: `make run` and `make test`. Both provision PostgreSQL first
# (.ci/devdb: DATABASE_URL's server when it answers, else a throwaway cluster under .pgdata/), with
# the owner role that migrates (PB_MIGRATE_DATABASE_URL) and the runtime role that serves
# (DATABASE_URL); tests make their own pair of roles from TEST_DATABASE_URL, a superuser.
# `make stop` and `make clean` stop and remove that throwaway cluster (never a DATABASE_URL server).
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO ?= go
KEYS := .dev/keys
DEV_ROLES := practitioner,approver,panel,finance,auditor,council_admin
# The build's version and commit, stamped into the binary (pbudget --version, pbudget_build_info).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X github.com/pbudget/pbudget/internal/buildinfo.version=$(VERSION) -X github.com/pbudget/pbudget/internal/buildinfo.commit=$(COMMIT)

.PHONY: help run stop clean test docs-check check fmt-check vet generate generate-check lint-openapi unit build static bench docker

help:
	@echo "make run    provision the database, migrate, seed the demo council, print a token, serve on 127.0.0.1:8080"
	@echo "make stop   stop the throwaway database of make run / make test (not a DATABASE_URL server)"
	@echo "make clean  stop it and remove it (.pgdata/, its socket directory) and bin/"
	@echo "make test   provision the database, then format, vet, generated-code, OpenAPI lint and go test -race"
	@echo "make bench  the load benchmark of the README (wrk)"
	@echo "make docs-check  run docs/journey.md's calls against a dev server and render /docs in headless Chromium"
	@echo "make static the Dockerfile's static binary (CGO_ENABLED=0), to bin/pbudget-static"

build:
	@$(GO) build -ldflags "$(LDFLAGS)" -o bin/pbudget ./cmd/pbudget

# The binary of the Dockerfile's build stage, built the same way (a check where no container engine runs).
static:
	@CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w $(LDFLAGS)" -o bin/pbudget-static ./cmd/pbudget

run: build
	@db=$$(.ci/devdb); eval "$$db"
	export PB_LISTEN_ADDR=$${PB_LISTEN_ADDR:-127.0.0.1:8080} PB_METRICS_ADDR=$${PB_METRICS_ADDR:-127.0.0.1:9090}
	case "$$PB_LISTEN_ADDR" in
	  :*) base=http://127.0.0.1$$PB_LISTEN_ADDR ;;
	  0.0.0.0:*) base=http://127.0.0.1:$${PB_LISTEN_ADDR#*:} ;;
	  *) base=http://$$PB_LISTEN_ADDR ;;
	esac
	[ -f $(KEYS)/jwt-private.pem ] || bin/pbudget keygen --out $(KEYS) >/dev/null
	# A development encryption key for bank details, made on first run, never committed (.dev/ is ignored).
	[ -f $(KEYS)/secret-keys ] || (umask 077; bin/pbudget secret-key --id dev > $(KEYS)/secret-keys)
	bin/pbudget migrate >/dev/null
	bin/pbudget seed >/dev/null
	token=$$(bin/pbudget token --key $(KEYS)/jwt-private.pem --council demo --roles $(DEV_ROLES) --sub dev-user --ttl 12h)
	cat <<-MSG

	  pbudget $$(bin/pbudget --version | cut -d' ' -f2-): the demo council is seeded; a development token (12 hours; roles $(DEV_ROLES)):

	  export TOKEN=$$token

	  curl -s -X POST $$base/v1/people -H "Authorization: Bearer \$$TOKEN" -H 'Content-Type: application/json' -d '{"given_name":"Sam","family_name":"Okafor","date_of_birth":"1961-02-28","person_type":"adult"}'
	  curl -s $$base/v1/people -H "Authorization: Bearer \$$TOKEN"

	  API reference: $$base/docs    metrics: http://$$PB_METRICS_ADDR/metrics (PB_METRICS_ADDR=off for none)
	  listening on $$PB_LISTEN_ADDR (set PB_LISTEN_ADDR=:8080 to listen on every interface); make stop stops the database

	MSG
	PB_PUBLIC_URL=$${PB_PUBLIC_URL:-$$base} PB_SECRET_KEYS=$$(cat $(KEYS)/secret-keys) PB_JWT_PUBLIC_KEY_FILE=$(KEYS)/jwt-public.pem exec bin/pbudget serve

stop:
	@.ci/devdb stop

clean: stop
	@.ci/devdb clean
	rm -rf bin

# go test ./... includes the docs checks (./docs: the journey's curl calls and /docs in headless
# Chromium); PB_REQUIRE_CHROMIUM makes a missing browser a failure rather than a skip.
test:
	@.ci/need-gcc
	.ci/need-tools
	db=$$(.ci/devdb); eval "$$db"
	export PB_REQUIRE_CHROMIUM=1
	$(MAKE) --no-print-directory check
	$(GO) test -race -count=1 -timeout 30m ./...

# The docs checks alone; the screenshot of /docs is kept in bin/docs.png.
docs-check:
	@.ci/need-tools
	db=$$(.ci/devdb); eval "$$db"
	export PB_REQUIRE_CHROMIUM=1 PB_DOCS_SCREENSHOT="$(CURDIR)/bin/docs.png"
	$(GO) test -count=1 -run 'Journey|DocsPage' ./docs/
	echo "docs-check: the journey ran; the screenshot of /docs is bin/docs.png"

# The static checks, without the database.
check: fmt-check vet generate-check lint-openapi

fmt-check:
	@unformatted=$$(gofmt -l api cmd config internal migrations pkg)
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi

vet:
	@$(GO) vet ./...

generate:
	@$(GO) generate ./api/...

generate-check:
	@.ci/check-generated

# The house rules (internal/speclint), then Redocly's recommended rules (tools/package.json pins
# @redocly/cli; installed from package-lock.json on first use).
lint-openapi:
	@$(GO) run ./internal/speclint openapi.yaml
	[ -x tools/node_modules/.bin/redocly ] || npm ci --prefix tools --no-audit --no-fund --loglevel=error
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	  tools/node_modules/.bin/redocly lint openapi.yaml --config redocly.yaml --format stylish

bench: build
	@.ci/bench

docker:
	@docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t pbudget:$(VERSION) .
