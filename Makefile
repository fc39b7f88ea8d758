# pyprof: the two commands that do everything are `make demo` and `make test`.
#
#   make demo       build, install into .venv/demo, profile examples/julia_set.py
#   make test       C unit tests, then the pytest suite on every CPython 3.10-3.13 found
#   make test-asan  the suite against an ASan+UBSan build of the extension
#   make ctest      plain-C unit tests of src/core
#   make fuzz       run the pstats reader fuzzer for FUZZ_SECONDS
#   make bench      overhead ratios: plain vs cProfile vs pyprof

PYTHONS     := $(shell tools/pythons.sh)
DEMO_PYTHON := $(firstword $(shell command -v python3) $(PYTHONS))
VENVS       := .venv
TEST_DEPS   := pytest setuptools wheel snakeviz gprof2dot ipython memory_profiler psutil line_profiler
PYTEST_ARGS ?= -q
FUZZ_SECONDS ?= 60
SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g -O1
SAN_BUILD   := PYPROF_CFLAGS="$(SAN_FLAGS)" PYPROF_LDFLAGS="-fsanitize=address,undefined"

.PHONY: demo test test-asan ctest fuzz bench bench-memory clean

# $(call venv,PYTHON,DIR,EXTRA-ENV): a virtual environment at DIR with the
# test dependencies and a fresh build of pyprof installed into it.
define venv
	@test -x $(2)/bin/python || $(1) -m venv $(2)
	@$(2)/bin/python -m pip install -q --disable-pip-version-check $(TEST_DEPS) 2>&1 | grep -v '^WARNING: Location' || true
	@rm -rf build
	@$(3) $(2)/bin/python -m pip install -q --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps .
endef

demo:
	$(call venv,$(DEMO_PYTHON),$(VENVS)/demo,)
	@mkdir -p out
	@echo "== pyprof time examples/julia_set.py"
	@$(VENVS)/demo/bin/pyprof time examples/julia_set.py
	@echo
	@echo "== pyprof run -s cumulative examples/julia_set.py"
	@$(VENVS)/demo/bin/pyprof run -s cumulative examples/julia_set.py
	@$(VENVS)/demo/bin/pyprof run -o out/julia_set.pstats examples/julia_set.py
	@echo
	@echo "== pyprof stats out/julia_set.pstats --sort tottime --limit 5"
	@$(VENVS)/demo/bin/pyprof stats out/julia_set.pstats --sort tottime --limit 5

test: ctest
	@test -n "$(PYTHONS)" || { echo "make test: no CPython 3.10-3.13 found" >&2; exit 1; }
	@set -e; n=0; for py in $(PYTHONS); do \
	    v=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	    echo "== tests on Python $$v ($$py)"; \
	    $(MAKE) --no-print-directory test-one PY=$$py VENV=$(VENVS)/$$v; \
	    n=$$((n+1)); \
	done; echo "== ran the suite on $$n Python version(s)"; test $$n -ge 1

test-one:
	$(call venv,$(PY),$(VENV),)
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS) tests

test-asan:
	$(call venv,$(firstword $(PYTHONS)),$(VENVS)/asan,$(SAN_BUILD))
	@rm -rf build
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	PYTHONMALLOC=malloc $(VENVS)/asan/bin/python -m pytest $(PYTEST_ARGS) -p no:cacheprovider tests

ctest:
	@$(MAKE) --no-print-directory -C tests/c run

fuzz:
	@$(MAKE) --no-print-directory -C fuzz run SECONDS=$(FUZZ_SECONDS)

bench:
	$(call venv,$(DEMO_PYTHON),$(VENVS)/bench,)
	$(VENVS)/bench/bin/python bench/run.py $(BENCH_ARGS)
	$(VENVS)/bench/bin/python bench/run.py --memory --rounds 3 $(BENCH_ARGS)

# memory_profiler, mprof, tracemalloc vs pyprof memory / mprof run only.
bench-memory:
	$(call venv,$(DEMO_PYTHON),$(VENVS)/bench,)
	$(VENVS)/bench/bin/python bench/run.py --memory --rounds 3 $(BENCH_ARGS)

clean:
	rm -rf build out $(VENVS) python/*.egg-info
	-$(MAKE) -C tests/c clean
	-$(MAKE) -C fuzz clean
