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

# Minutes of fuzzing under AddressSanitizer (FUZZ_SECONDS=300 by default).
fuzz: setup-test $(FUZZ_DIR)/build.ninja
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_client_parser
	mkdir -p $(FUZZ_DIR)/corpus && $(FUZZ_DIR)/fuzz_client_parser -max_total_time=$(FUZZ_SECONDS) -max_len=8192 $(FUZZ_DIR)/corpus fuzz/corpus/client_parser

# The short run that `make test` includes.
fuzz-short: $(FUZZ_DIR)/build.ninja
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_client_parser
	mkdir -p $(FUZZ_DIR)/corpus-short && $(FUZZ_DIR)/fuzz_client_parser -max_total_time=30 -max_len=8192 $(FUZZ_DIR)/corpus-short fuzz/corpus/client_parser

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR)
