# Sluice: the two commands are `make run` and `make test`. Both install what is
# missing (Debian packages, npm packages from the lock file) before building.
BUILD_DIR ?= build
FUZZ_DIR  ?= build-fuzz
JOBS      ?= $(shell nproc)
FUZZ_SECONDS ?= 300
PORT      ?= 4222
HTTP_PORT ?= 8222

.PHONY: all setup setup-test build run test test-unit bench fuzz fuzz-short clean

all: build

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh --test

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: setup $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@mkdir -p data
	$(BUILD_DIR)/sluice-server -js -sd ./data -p $(PORT) -m $(HTTP_PORT)

test: setup-test $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)
	$(MAKE) --no-print-directory fuzz-short
	cd $(BUILD_DIR) && ctest --output-on-failure -j 2 --timeout 600

bench: setup-test $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)
	bench/run.sh $(BUILD_DIR)

$(FUZZ_DIR)/build.ninja:
	CC=clang-16 CXX=clang++-16 cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_FUZZ=ON

# The libFuzzer targets (fuzz/README.md): fuzz/fuzz_<name>.cc, seeds in
# fuzz/corpus/<name>/. A crash leaves fuzz_<name>-crash-<hash> here.
FUZZ_TARGETS := client_parser config_file jetstream_json headers store_record consumer_journal
# fuzz_seconds_short(name): the client parser gets 15 s, the others 10 s each.
fuzz_seconds_short = $(if $(filter client_parser,$(1)),15,10)
# run_fuzzer(name, seconds, corpus dir)
define run_fuzzer
	mkdir -p $(3)/$(1) && $(FUZZ_DIR)/fuzz_$(1) -max_total_time=$(2) -timeout=10 -max_len=8192 \
	  -artifact_prefix=fuzz_$(1)- $(3)/$(1) fuzz/corpus/$(1)

endef

# Minutes of fuzzing under AddressSanitizer: FUZZ_SECONDS (300 by default) for
# each target in turn.
fuzz: setup-test $(FUZZ_DIR)/build.ninja
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	$(foreach t,$(FUZZ_TARGETS),$(call run_fuzzer,$(t),$(FUZZ_SECONDS),$(FUZZ_DIR)/corpus))

# The short run that `make test` includes (65 s in all).
fuzz-short: $(FUZZ_DIR)/build.ninja
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	$(foreach t,$(FUZZ_TARGETS),$(call run_fuzzer,$(t),$(call fuzz_seconds_short,$(t)),$(FUZZ_DIR)/corpus-short))

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR)
