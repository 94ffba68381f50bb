#!/bin/sh
# Regenerate the seed corpora in tests/fuzz/corpus/ from real inputs (see gen_corpus.c):
#   tests/fuzz/gen_corpus.sh BUILD_DIR     (a build with -Dfuzz=true: CC=clang meson setup
#                                           build-fuzz -Dfuzz=true)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: $0 BUILD_DIR}
ninja -C "$build" tests/fuzz/fuzz_gen_corpus
rm -rf "$here/corpus"
ASAN_OPTIONS=detect_leaks=0 "$build/tests/fuzz/fuzz_gen_corpus" "$root" "$here/corpus"
du -sh "$here/corpus"
