# The two commands of the README, and a few more.
.PHONY: run test stop infra-start infra-stop docs lint

run:          ## infrastructure + the three services + a demo account (token printed)
	bash deploy/local/run.sh

test:         ## the whole test suite, set-up included (what .ci/run calls)
	bash deploy/local/test.sh

stop:         ## stop the services and the infrastructure
	bash deploy/local/run.sh stop

infra-start:
	bash deploy/local/infra.sh start

infra-stop:
	bash deploy/local/infra.sh stop

docs:         ## write docs/asyncapi.yaml and docs/openapi-*.json from the code
	.venv/bin/python -m tools.write_api_docs

lint:
	.venv/bin/ruff check . && .venv/bin/mypy
