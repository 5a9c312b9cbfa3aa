#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) in build-fuzz/ and runs one.
#   scripts/fuzz.sh TARGET SECONDS     e.g. scripts/fuzz.sh headparser 600
#   scripts/fuzz.sh all SECONDS        every target, two at a time, SECONDS each
# Targets: headparser chunked body multipart usage adminjson commandline.
# The seed corpus is tests/fuzz/corpus/TARGET (read only); what the run
# finds new goes to build-fuzz/corpus/TARGET, a crash to
# build-fuzz/crashes/TARGET/ (exit 1). A crash is a bug: fix it, and add
# its input to the seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET|all SECONDS}
seconds=${2:-60}
targets=(headparser chunked body multipart usage adminjson commandline)

if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
    echo "Installing clang and libFuzzer (clang, libclang-rt-14-dev)"
    sudo_cmd=()
    [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev
fi
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
if [[ ! -f "$build_dir/build.ninja" ]]; then
    CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DROUTE_FUZZ=ON -DROUTE_BUILD_TESTS=OFF
fi

run_one() {
    local name=$1
    mkdir -p "$build_dir/corpus/$name" "$build_dir/crashes/$name"
    echo "fuzz_$name: $seconds s"
    # -rss_limit_mb: a target that grows without bound is a finding too.
    if ! "$build_dir/tests/fuzz/fuzz_$name" "$build_dir/corpus/$name" "tests/fuzz/corpus/$name" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$build_dir/crashes/$name/" >"$build_dir/fuzz_$name.log" 2>&1; then
        tail -n 40 "$build_dir/fuzz_$name.log" >&2
        echo "fuzz_$name found a crash: $build_dir/crashes/$name/" >&2
        return 1
    fi
    grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$build_dir/fuzz_$name.log" | tail -n 2 | sed "s/^/  $name: /"
}

if [[ "$target" == all ]]; then
    cmake --build "$build_dir" --parallel "$(nproc)"
    failed=0
    # Two at a time on two cores: the whole set in about 4 x SECONDS.
    for ((i = 0; i < ${#targets[@]}; i += 2)); do
        pids=()
        for name in "${targets[@]:i:2}"; do
            run_one "$name" &
            pids+=($!)
        done
        for pid in "${pids[@]}"; do
            wait "$pid" || failed=1
        done
    done
    exit $failed
fi
cmake --build "$build_dir" --target "fuzz_$target" --parallel "$(nproc)"
run_one "$target"
