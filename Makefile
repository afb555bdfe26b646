# The two commands of the README: `make run` and `make test`. Both provision PostgreSQL first
# (.ci/devdb: DATABASE_URL when it answers, else a throwaway cluster under .pgdata/).
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO ?= go
KEYS := .dev/keys
DEV_ROLES := practitioner,approver,panel,finance,auditor,council_admin

.PHONY: help run test check fmt-check vet generate generate-check lint-openapi unit build bench docker

help:
	@echo "make run    provision the database, migrate, seed the demo council, print a token, serve on :8080"
	@echo "make test   provision the database, then format, vet, generated-code, OpenAPI lint and go test -race"
	@echo "make bench  the load benchmark of the README (wrk)"

build:
	@$(GO) build -o bin/pbudget ./cmd/pbudget

run: build
	@db=$$(.ci/devdb); eval "$$db"
	[ -f $(KEYS)/jwt-private.pem ] || bin/pbudget keygen --out $(KEYS) >/dev/null
	# A development encryption key for bank details, made on first run, never committed (.dev/ is ignored).
	[ -f $(KEYS)/secret-keys ] || (umask 077; bin/pbudget secret-key --id dev > $(KEYS)/secret-keys)
	bin/pbudget migrate >/dev/null
	bin/pbudget seed >/dev/null
	token=$$(bin/pbudget token --key $(KEYS)/jwt-private.pem --council demo --roles $(DEV_ROLES) --sub dev-user --ttl 12h)
	cat <<-MSG

	  pbudget: the demo council is seeded; a development token (12 hours; roles $(DEV_ROLES)):

	  export TOKEN=$$token

	  curl -s -X POST http://localhost:8080/v1/people -H "Authorization: Bearer \$$TOKEN" -H 'Content-Type: application/json' -d '{"given_name":"Sam","family_name":"Okafor","date_of_birth":"1961-02-28","person_type":"adult"}'
	  curl -s http://localhost:8080/v1/people -H "Authorization: Bearer \$$TOKEN"

	  API reference: http://localhost:8080/docs

	MSG
	PB_SECRET_KEYS=$$(cat $(KEYS)/secret-keys) PB_JWT_PUBLIC_KEY_FILE=$(KEYS)/jwt-public.pem exec bin/pbudget serve

test:
	@.ci/need-gcc
	db=$$(.ci/devdb); eval "$$db"
	export TEST_DATABASE_URL="$$DATABASE_URL"
	$(MAKE) --no-print-directory check
	$(GO) test -race -count=1 ./...

# The static checks, without the database.
check: fmt-check vet generate-check lint-openapi

fmt-check:
	@unformatted=$$(gofmt -l api cmd internal migrations pkg)
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi

vet:
	@$(GO) vet ./...

generate:
	@$(GO) generate ./api/...

generate-check:
	@.ci/check-generated

lint-openapi:
	@$(GO) run ./internal/speclint openapi.yaml

bench: build
	@.ci/bench

docker:
	@docker build -t pbudget .
