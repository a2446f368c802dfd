.PHONY: run test bench clean help

help:
	@echo "make run    - install what is missing, start Redis, VictoriaMetrics, web, Celery worker and beat (Ctrl-C stops)"
	@echo "make test   - the whole test suite against real PostgreSQL, Redis, VictoriaMetrics and Celery"
	@echo "make bench  - benchmarks (bench/), printed beside their baselines"

run:
	@scripts/run.sh

test:
	@scripts/test.sh

bench:
	@scripts/bench.sh

clean:
	rm -rf var/static
