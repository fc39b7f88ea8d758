# pyprof: the two commands that do everything are `make demo` and `make test`.
#
#   make demo       build, install into .venv/demo, profile examples/julia_set.py
#                   (time, functions, lines, memory), write its HTML reports,
#                   flame graph, memory timeline and screenshots in out/
#   make test       C unit tests, then the pytest suite on every CPython 3.10-3.13 found,
#                   and on 3.14 and 3.15 in the sid chroot at $(SID) when it exists
#   make test-asan  the suite against an ASan+UBSan build of the extension
#   make ctest      plain-C unit tests of src/core
#   make sid        (root) a Debian sid chroot at $(SID) with CPython 3.14 and 3.15
#   make test-sid   the suite on 3.14 and 3.15 inside that chroot, and ctest with its GCC
#   make fuzz       run the pstats reader fuzzer for FUZZ_SECONDS
#   make bench      overhead ratios: plain vs cProfile vs pyprof

PYTHONS     := $(shell tools/pythons.sh)
DEMO_PYTHON := $(firstword $(shell command -v python3) $(PYTHONS))
VENVS       := .venv
TEST_DEPS   := pytest setuptools wheel snakeviz gprof2dot ipython line_profiler objgraph websocket-client jsonschema memory_profiler psutil py-spy
PYTEST_ARGS ?= -q
FUZZ_SECONDS ?= 60
CHROMIUM    ?= chromium
# A Debian sid chroot holding python3.14 and python3.15 (tools/sid-chroot.sh;
# a symlink to a shared one works too).
SID         ?= $(CURDIR)/.sid
SID_VERSIONS := 3.14 3.15
SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g -O1
SAN_BUILD   := PYPROF_CFLAGS="$(SAN_FLAGS)" PYPROF_LDFLAGS="-fsanitize=address,undefined"

.PHONY: demo test test-one venv-one test-asan ctest fuzz bench bench-memory clean sid test-sid ctest-sid

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
	@echo
	@echo "== pyprof view out/julia_set.pstats -o out/julia_set.html --flamegraph out/julia_set.svg"
	@$(VENVS)/demo/bin/pyprof view out/julia_set.pstats -o out/julia_set.html --flamegraph out/julia_set.svg
	@$(VENVS)/demo/bin/pyprof export out/julia_set.pstats --format speedscope -o out/julia_set.speedscope.json
	@$(VENVS)/demo/bin/pyprof lines --function calc_point_val -o out/julia_set.lines.json examples/julia_set.py
	@$(VENVS)/demo/bin/pyprof view out/julia_set.lines.json -o out/julia_set.lines.html
	@echo
	@echo "== pyprof memory --function jset examples/julia_set.py"
	@$(VENVS)/demo/bin/pyprof memory --function jset examples/julia_set.py
	@$(VENVS)/demo/bin/pyprof memory --function jset -o out/julia_set.memory.json examples/julia_set.py >/dev/null
	@$(VENVS)/demo/bin/pyprof view out/julia_set.memory.json -o out/julia_set.memory.html
	@echo "== pyprof mprof run -T 0.02 -o out/julia_set.mprof.dat examples/julia_set.py"
	@$(VENVS)/demo/bin/pyprof mprof run -T 0.02 -o out/julia_set.mprof.dat examples/julia_set.py
	@$(VENVS)/demo/bin/pyprof mprof peak out/julia_set.mprof.dat
	@$(VENVS)/demo/bin/pyprof mprof plot out/julia_set.mprof.dat -o out/julia_set.memory.svg
	@if command -v $(CHROMIUM) >/dev/null 2>&1; then \
	    for f in julia_set.html:julia_set.png julia_set.svg:julia_set-flamegraph.png \
	             julia_set.lines.html:julia_set-lines.png \
	             julia_set.memory.svg:julia_set-memory.png \
	             julia_set.memory.html:julia_set-memory-lines.png; do \
	        $(CHROMIUM) --headless --no-sandbox --disable-gpu --no-first-run \
	            --disable-background-networking --user-data-dir=$$(mktemp -d) \
	            --window-size=1200,900 --screenshot=$(CURDIR)/out/$${f#*:} \
	            file://$(CURDIR)/out/$${f%%:*} >/dev/null 2>&1; \
	    done; \
	    echo "screenshots: $(CURDIR)/out/julia_set.png $(CURDIR)/out/julia_set-flamegraph.png $(CURDIR)/out/julia_set-lines.png $(CURDIR)/out/julia_set-memory.png $(CURDIR)/out/julia_set-memory-lines.png"; \
	else echo "(no $(CHROMIUM): no screenshots)"; fi
	@echo "report: $(CURDIR)/out/julia_set.html"
	@echo "flame graph: $(CURDIR)/out/julia_set.svg"
	@echo "line report: $(CURDIR)/out/julia_set.lines.html"
	@echo "memory per line: $(CURDIR)/out/julia_set.memory.html"
	@echo "memory over time: $(CURDIR)/out/julia_set.memory.svg"

test: ctest
	@test -n "$(PYTHONS)" || { echo "make test: no CPython 3.10-3.13 found" >&2; exit 1; }
	@set -e; n=0; for py in $(PYTHONS); do \
	    v=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	    echo "== tests on Python $$v ($$py)"; \
	    $(MAKE) --no-print-directory test-one PY=$$py VENV=$(VENVS)/$$v; \
	    n=$$((n+1)); \
	done; \
	if [ -x $(SID)/usr/bin/python3.14 ]; then \
	    $(MAKE) --no-print-directory test-sid; n=$$((n+$(words $(SID_VERSIONS)))); \
	else echo "== no sid chroot at $(SID): 3.14 and 3.15 not tested (make sid)"; fi; \
	echo "== ran the suite on $$n Python version(s)"; test $$n -ge 1

venv-one:
	$(call venv,$(PY),$(VENV),)

test-one: venv-one
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS) tests

test-asan:
	$(call venv,$(firstword $(PYTHONS)),$(VENVS)/asan,$(SAN_BUILD))
	@rm -rf build
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	PYTHONMALLOC=malloc $(VENVS)/asan/bin/python -m pytest $(PYTEST_ARGS) -p no:cacheprovider tests

ctest:
	@$(MAKE) --no-print-directory -C tests/c run

sid:
	tools/sid-chroot.sh $(SID)

# Each Python of the chroot builds pyprof from this tree (mounted at the same
# path inside) into its own .venv/sid-<version>; needs root (chroot, mount).
test-sid: ctest-sid
	@set -e; for v in $(SID_VERSIONS); do \
	    test -x $(SID)/usr/bin/python$$v || { echo "make test-sid: no python$$v in $(SID) (make sid)" >&2; exit 1; }; \
	    echo "== tests on Python $$v (sid chroot $(SID))"; \
	    tools/sid-run.sh $(SID) --repo $(CURDIR) make --no-print-directory test-one \
	        PY=/usr/bin/python$$v VENV=$(VENVS)/sid-$$v PYTEST_ARGS="$(PYTEST_ARGS)"; \
	done

# The plain-C tests built by the chroot's (newer) GCC, into their own binary.
ctest-sid:
	@test -x $(SID)/usr/bin/gcc || { echo "make ctest-sid: no chroot at $(SID) (make sid)" >&2; exit 1; }
	@tools/sid-run.sh $(SID) --repo $(CURDIR) make --no-print-directory -C tests/c run BIN=core-test-sid

fuzz:
	@$(MAKE) --no-print-directory -C fuzz run SECONDS=$(FUZZ_SECONDS)

# Every Python found, each from its own venv; BENCH_PYTHONS narrows it
# (e.g. make bench BENCH_PYTHONS="3.11 3.12").
bench:
	@set -e; pys=""; for py in $(PYTHONS); do \
	    v=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	    if [ -n "$(BENCH_PYTHONS)" ] && ! echo " $(BENCH_PYTHONS) " | grep -q " $$v "; then continue; fi; \
	    $(MAKE) --no-print-directory venv-one PY=$$py VENV=$(VENVS)/$$v; \
	    pys="$$pys $(VENVS)/$$v/bin/python"; \
	done; \
	$$(echo $$pys | cut -d' ' -f1) bench/run.py --python $$pys $(BENCH_ARGS); \
	$$(echo $$pys | cut -d' ' -f1) bench/run.py --memory --rounds 3 $(BENCH_ARGS); \
	for p in $$pys; do $$p -m pip install -q --disable-pip-version-check 'austin-dist<4' py-spy 2>&1 | grep -v '^WARNING: Location' || true; done; \
	$$(echo $$pys | cut -d' ' -f1) bench/run.py --sampling --python $$pys --rounds 2 $(BENCH_ARGS); \
	$$(echo $$pys | cut -d' ' -f1) bench/run.py --slowdown --python $$pys $(BENCH_ARGS)

# memory_profiler, mprof, tracemalloc vs pyprof memory / mprof run only.
bench-memory:
	$(call venv,$(DEMO_PYTHON),$(VENVS)/bench,)
	$(VENVS)/bench/bin/python bench/run.py --memory --rounds 3 $(BENCH_ARGS)

clean:
	rm -rf build out $(VENVS) python/*.egg-info
	-$(MAKE) -C tests/c clean
	-$(MAKE) -C fuzz clean
