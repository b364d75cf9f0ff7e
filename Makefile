# A thin veneer over npm scripts and scripts/*.sh (STYLE.md): no logic here.
.PHONY: help runtime deps install uninstall build db db-stop demo test lint format bench clean

# The project's Node.js (scripts/runtime.sh) comes first wherever it is installed; the machine's node otherwise.
export PATH := $(CURDIR)/runtime/node_modules/.bin:$(PATH)

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

runtime: ## Node.js 26 under runtime/ when the machine's node is older (pinned, checksummed; docs/runtime.md)
	@scripts/runtime.sh

node_modules/.package-lock.json: package-lock.json | runtime
	npm ci --no-audit --no-fund
	@touch $@

deps: runtime node_modules/.package-lock.json ## the runtime, then npm ci from the committed lockfile

install: build ## install the jobs, env template, systemd units and crontab (PREFIX=/opt/leadsmart, DESTDIR=…)
	scripts/install.sh install

uninstall: ## remove what make install put in place (keeps the env file and local data)
	scripts/install.sh uninstall

build: deps ## bundle the jobs into dist/
	npm run build --silent

db: build ## start (creating if needed) and migrate the local database under .state/pg
	scripts/local-db.sh start

db-stop: ## stop the local database
	scripts/local-db.sh stop

demo: build ## load the sample data into the local database, score it, show the result
	scripts/demo.sh

test: deps ## type-check, format and lint check, then every test against a throwaway PostgreSQL
	scripts/test.sh

lint: deps ## format and lint check (Biome), as make test runs it
	npm run --silent lint

format: deps ## rewrite the code in the house format and apply the safe lint fixes
	npm run --silent format

bench: build ## benchmarks; numbers go to bench/RESULTS.md
	scripts/bench.sh

clean: ## remove build output (keeps the local database)
	rm -rf dist coverage
