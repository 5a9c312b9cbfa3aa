#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite.
#   scripts/test.sh              normal build in build/
#   scripts/test.sh --sanitize   ASan+UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --tests

extra=()
if [[ -n "${CI:-}" ]]; then
    extra+=(-DROUTE_WERROR=ON)
fi
if [[ "${1:-}" == "--sanitize" ]]; then
    export BUILD_DIR=${BUILD_DIR:-build-asan}
    export BUILD_TYPE=Debug
    extra+=(-DROUTE_SANITIZE=ON)
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
    export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
scripts/build.sh "${extra[@]}"
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --parallel "$(nproc)" --label-exclude "bench|clients"
