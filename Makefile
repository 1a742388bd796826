# chute: top-level build.  `make` builds everything into build/; `make test`
# runs the unit and integration tests; `make demo` runs the bundled demo.
# Every target that needs a system package first runs `make deps`, which
# installs the missing Debian packages when run as root.

PREFIX    ?= /usr/local
BUILD     ?= build
CC        ?= cc
SANITIZE  ?=

# zlib, libzstd and snappy (a C++ library behind its C API, snappy-c.h; its
# .so pulls in libstdc++) serve proto/codec.c: the service, tests and tools
# link them, libchute does not.  OpenSSL 3 (libssl, libcrypto) serves
# broker/tls.c and the SASL mechanisms, the service's side only.
PKGS      := liblz4 libprotobuf-c zlib libzstd snappy openssl
TEST_PKGS := cmocka rdkafka

# libev ships no pkg-config file on Debian 12; fall back to plain -lev.
EV_CFLAGS := $(shell pkg-config --cflags libev 2>/dev/null)
EV_LIBS   := $(shell pkg-config --libs libev 2>/dev/null || echo -lev)

WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wpointer-arith -Wvla -Wformat=2
CFLAGS    ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(SANITIZE) -fPIC -pthread \
             -D_GNU_SOURCE -I. -Iinclude -I$(BUILD)/gen $(EV_CFLAGS) \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS_BASE = $(shell pkg-config --libs libprotobuf-c 2>/dev/null) -pthread -lrt
LDLIBS_SVC  = $(EV_LIBS) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread -lrt -lm
LDLIBS_RDK  = $(shell pkg-config --libs rdkafka 2>/dev/null)
LDLIBS_TEST = $(shell pkg-config --libs cmocka 2>/dev/null)
ALL_LDFLAGS = $(SANITIZE) $(LDFLAGS)

# ---- sources ---------------------------------------------------------------
GEN_SRC     := $(BUILD)/gen/proto/control.pb-c.c
COMMON_SRC  := $(wildcard common/*.c)
SHM_SRC     := $(wildcard shm/*.c)
PROTO_SRC   := $(wildcard proto/*.c)
BROKER_SRC  := $(wildcard broker/*.c)
WORKER_SRC  := $(wildcard worker/*.c)
SUP_SRC     := $(filter-out supervisor/main.c,$(wildcard supervisor/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(patsubst $(BUILD)/%,%,$(1)))

# libchute: what a client process links.  It needs the shared-memory code,
# the partitioner and the control-socket client, nothing from the worker.
LIBCHUTE_OBJ := $(call obj,$(COMMON_SRC) $(SHM_SRC) proto/murmur2.c proto/varint.c proto/record.c \
                 proto/kafka_err.c \
                 proto/ctlmsg.c $(GEN_SRC))
# Everything the service and the tests link.
INTERNAL_OBJ := $(call obj,$(COMMON_SRC) $(SHM_SRC) $(PROTO_SRC) $(GEN_SRC) \
                 $(BROKER_SRC) $(WORKER_SRC) $(SUP_SRC))

BIN_DIR := $(BUILD)/bin
LIB_DIR := $(BUILD)/lib
PROGRAMS := $(BIN_DIR)/chuted $(BIN_DIR)/chutectl $(BIN_DIR)/chute-cat \
            $(BIN_DIR)/chute-bench $(BIN_DIR)/chute-mock
TEST_SRC  := $(wildcard tests/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
TEST_TOOLS_SRC := $(wildcard tests/tools/*.c)
TEST_TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TEST_TOOLS_SRC))
FUZZ_TARGETS := ring record kafka ctlmsg codec
# Each fuzz target also builds with a plain main (tests/fuzz/replay.c) that
# `make unit` runs over its corpus: inputs that once crashed stay tests.
FUZZ_REPLAY := $(patsubst %,$(BUILD)/tests/fuzz_%,$(FUZZ_TARGETS))

.PHONY: all deps test unit integration demo demo-kafka kafka-start kafka-stop \
        install clean asan fuzz format bench
# Keep objects make would otherwise treat as intermediate and delete.
.SECONDARY:
all: deps
	@$(MAKE) --no-print-directory build

.PHONY: build
build: $(PROGRAMS) $(LIB_DIR)/libchute.a $(LIB_DIR)/libchute.so \
       $(TEST_BINS) $(TEST_TOOLS) $(FUZZ_REPLAY)

deps:
	@./scripts/deps.sh

# ---- generated code --------------------------------------------------------
# One protoc-c run writes both files (a grouped target: a header rule with
# no recipe of its own let objects built against the old header survive a
# change of control.proto).
$(BUILD)/gen/proto/control.pb-c.c $(BUILD)/gen/proto/control.pb-c.h &: proto/control.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen proto/control.proto

$(call obj,$(GEN_SRC)): $(BUILD)/gen/proto/control.pb-c.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -Wmissing-prototypes,$(ALL_CFLAGS)) -MMD -MP -c $< -o $@

# Every object may include the generated header.
$(BUILD)/obj/%.o: %.c $(BUILD)/gen/proto/control.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# ---- libraries -------------------------------------------------------------
$(LIB_DIR)/libchute.a: $(LIBCHUTE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIB_DIR)/libchute.so: $(LIBCHUTE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libchute.so.0 -Wl,--no-undefined $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_BASE)

$(LIB_DIR)/libchute-internal.a: $(INTERNAL_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

INTERNAL := $(LIB_DIR)/libchute-internal.a

# ---- programs --------------------------------------------------------------
$(BIN_DIR)/chuted: $(BUILD)/obj/supervisor/main.o $(INTERNAL)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_SVC)

$(BIN_DIR)/chutectl $(BIN_DIR)/chute-cat: $(BIN_DIR)/%: $(BUILD)/obj/tools/%.o $(INTERNAL)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_SVC)

$(BIN_DIR)/chute-bench $(BIN_DIR)/chute-mock: $(BIN_DIR)/%: $(BUILD)/obj/tools/%.o $(INTERNAL)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS_SVC) $(LDLIBS_RDK)

# chute-bench's other parts: tools/bench_*.c (the child side for the Java
# producer and kafka-python, the latency, idle and soak modes, the work
# floor, ...).
$(BIN_DIR)/chute-bench: $(patsubst tools/%.c,$(BUILD)/obj/tools/%.o,$(wildcard tools/bench_*.c))

# chute-bench's Java producer (tools/java-bench), not part of `build`: Maven
# fetches kafka-clients from Maven Central the first time.  The jar and its
# lib/ land in BUILD/java-bench, where chute-bench looks for them.
JAVA_BENCH_JAR := $(BUILD)/java-bench/chute-java-bench.jar
JAVA_BENCH_SRC := tools/java-bench/pom.xml \
                  $(wildcard tools/java-bench/src/main/java/chute/bench/*.java)
.PHONY: java-bench
java-bench: $(JAVA_BENCH_JAR)
$(JAVA_BENCH_JAR): $(JAVA_BENCH_SRC)
	mvn -q -B -f tools/java-bench/pom.xml package \
	    -Dbench.out=$(abspath $(BUILD))/java-bench
	@touch $@

# ---- tests -----------------------------------------------------------------
$(BUILD)/tests/test_%: $(BUILD)/obj/tests/test_%.o $(INTERNAL)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_SVC) $(LDLIBS_TEST)

$(BUILD)/tests/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o \
                      $(BUILD)/obj/tests/fuzz/replay.o $(INTERNAL)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_SVC)

$(BUILD)/tests/%: $(BUILD)/obj/tests/tools/%.o $(INTERNAL)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_SVC) $(LDLIBS_RDK)

test: deps
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory unit integration

unit: $(TEST_BINS) $(FUZZ_REPLAY)
	@./tests/run-unit.sh $(BUILD)

integration: build
	@./tests/run-integration.sh $(BUILD)

# The unit tests and a set of integration tests again with AddressSanitizer
# and UBSan, in their own tree.  A sanitizer report from any process (a
# worker that a report kills would be restarted and the test might pass)
# fails the target.
ASAN_TESTS ?= test_e2e test_reports test_scale test_control test_metrics \
              test_crash_worker test_report_death test_client_death test_corrupt \
              test_bad_input test_python
ASAN_REPORTS = $(CURDIR)/build-asan/reports
asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan \
	    SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    build unit
	@rm -rf $(ASAN_REPORTS) && mkdir -p $(ASAN_REPORTS)
	@ASAN_OPTIONS=detect_leaks=0:log_path=$(ASAN_REPORTS)/asan \
	    UBSAN_OPTIONS=print_stacktrace=1:log_path=$(ASAN_REPORTS)/ubsan \
	    TESTS="$(ASAN_TESTS)" ./tests/run-integration.sh build-asan
	@if [ -n "$$(ls $(ASAN_REPORTS))" ]; then \
	    cat $(ASAN_REPORTS)/*; echo "asan: sanitizer reports found"; exit 1; \
	fi; echo "asan: no sanitizer reports"

# libFuzzer (clang) over the ring reader, the record decoder, the Kafka
# response parsers, the control-socket decoder and the batch decompressors,
# FUZZ_SECONDS each; new inputs go to tests/fuzz/corpus/TARGET (commit the
# ones that crashed).  FUZZ_TARGETS=codec runs one target.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
              -D_GNU_SOURCE -I. -Iinclude -I$(BUILD)/gen $(EV_CFLAGS)
FUZZ_LIBSRC = $(COMMON_SRC) $(SHM_SRC) $(PROTO_SRC) $(GEN_SRC)
fuzz: deps
	@$(MAKE) --no-print-directory $(BUILD)/gen/proto/control.pb-c.c
	@mkdir -p build-fuzz
	@for t in $(FUZZ_TARGETS); do \
	    clang $(FUZZ_CFLAGS) -o build-fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c \
	        $(FUZZ_LIBSRC) $(LDLIBS_SVC) || exit 1; \
	    mkdir -p tests/fuzz/corpus/$$t build-fuzz/corpus-$$t; \
	    echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	    build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	        -artifact_prefix=tests/fuzz/corpus/$$t/crash- \
	        build-fuzz/corpus-$$t tests/fuzz/corpus/$$t || exit 1; \
	done

demo: deps
	@$(MAKE) --no-print-directory build
	@./scripts/demo.sh $(BUILD)

# The standard benchmark set (scripts/bench.sh, docs/performance.md): the
# work floor, chute against librdkafka at 100 B and 1 KB, the scaling
# table, and scripts/bench-latency.sh when it is there, on the bundled mock
# cluster; one results file in BUILD/bench.  RECORDS=... RUNS=... scale it.
bench: deps
	@$(MAKE) --no-print-directory build
	@./scripts/bench.sh $(BUILD)

# The same demo against a real Apache Kafka cluster (scripts/kafka.sh).
demo-kafka: deps
	@$(MAKE) --no-print-directory build
	@./scripts/demo.sh $(BUILD) --kafka

# A real Apache Kafka cluster on loopback for your own use (KAFKA_DIR,
# default /tmp/chute-kafka; KAFKA_VERSION): prints the bootstrap list.
kafka-start: deps
	@./scripts/kafka.sh start
kafka-stop:
	@./scripts/kafka.sh stop

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/include/chute
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(LIB_DIR)/libchute.a $(DESTDIR)$(PREFIX)/lib/
	install -m 0755 $(LIB_DIR)/libchute.so $(DESTDIR)$(PREFIX)/lib/libchute.so.0
	ln -sf libchute.so.0 $(DESTDIR)$(PREFIX)/lib/libchute.so
	install -m 0644 include/chute/chute.h $(DESTDIR)$(PREFIX)/include/chute/
	sed -e 's|@PREFIX@|$(PREFIX)|g' scripts/chute.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/chute.pc

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
