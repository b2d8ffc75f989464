#!/usr/bin/env bash
# The C library as a C or C++ user installs and links it: make install into a
# temporary prefix; the shared library's SONAME, links and exported symbols
# (exactly the ADAMP_API functions of adamp.h); Examples/c built with nothing
# but pkg-config (shared, and --static with -static), from C++, and with
# CMake's find_package(cadamp); -Lbuild/c -lcadamp finds the static library
# only; make uninstall removes every file it installed.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
fails=0
fail() { echo "FAIL install: $*" >&2; fails=$((fails + 1)); }

make -s -C CKernels all
make -s -C CKernels install PREFIX="$prefix" >/dev/null
version=$(sed -n 's/^#define ADAMP_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' CKernels/include/adamp.h | paste -sd.)
major=${version%%.*}
for f in lib/libcadamp.so.$version lib/libcadamp.a include/adamp.h lib/pkgconfig/cadamp.pc \
         lib/cmake/cadamp/cadamp-config.cmake lib/cmake/cadamp/cadamp-config-version.cmake; do
    [ -f "$prefix/$f" ] || fail "$f not installed"
done
[ "$(readlink "$prefix/lib/libcadamp.so.$major")" = "libcadamp.so.$version" ] || fail "libcadamp.so.$major does not link to libcadamp.so.$version"
[ "$(readlink "$prefix/lib/libcadamp.so")" = "libcadamp.so.$major" ] || fail "libcadamp.so does not link to libcadamp.so.$major"
readelf -d "$prefix/lib/libcadamp.so.$version" | grep "SONAME.*\[libcadamp.so.$major\]" >/dev/null || fail "SONAME is not libcadamp.so.$major"

want=$(sed -n 's/^ADAMP_API [^(]*[ *]\(adamp_[a-z0-9_]*\)(.*/\1/p' CKernels/include/adamp.h | sort)
have=$(nm -D --defined-only "$prefix/lib/libcadamp.so" | awk '{print $3}' | sort)
[ "$want" = "$have" ] || fail "exported symbols differ from adamp.h's ADAMP_API functions: $(diff <(echo "$want") <(echo "$have") | grep '^[<>]' | tr '\n' ' ')"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ "$(pkg-config --modversion cadamp)" = "$version" ] || fail "pkg-config --modversion cadamp: $(pkg-config --modversion cadamp)"
# shellcheck disable=SC2046
cc -std=c11 Examples/c/step.c $(pkg-config --cflags --libs cadamp) -o "$work/c_shared"
LD_LIBRARY_PATH="$prefix/lib" "$work/c_shared" >/dev/null || fail "the C example (shared) failed"
LD_LIBRARY_PATH="$prefix/lib" ldd "$work/c_shared" | grep "libcadamp.so.$major => $prefix/lib/" >/dev/null || fail "the C example does not load $prefix/lib/libcadamp.so.$major"
# shellcheck disable=SC2046
# (libgomp.a warns that it may dlopen offload plugins: it does not here.)
cc -static -std=c11 Examples/c/step.c $(pkg-config --cflags --libs --static cadamp) -o "$work/c_static" 2>"$work/static.log" ||
    { cat "$work/static.log"; fail "the C example did not link statically"; }
"$work/c_static" >/dev/null || fail "the C example (static) failed"
readelf -d "$work/c_static" 2>/dev/null | grep NEEDED >/dev/null && fail "the -static example has dynamic dependencies"
# shellcheck disable=SC2046
c++ Examples/c/step.cpp $(pkg-config --cflags --libs cadamp) -o "$work/cxx"
LD_LIBRARY_PATH="$prefix/lib" "$work/cxx" >/dev/null || fail "the C++ example failed"

if command -v cmake >/dev/null; then
    cmake -S Examples/c -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" >"$work/cmake.log" 2>&1 &&
        cmake --build "$work/cmake" >>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "the CMake example did not build"; }
    for exe in step step_static step_cxx; do
        LD_LIBRARY_PATH="$prefix/lib" "$work/cmake/$exe" >/dev/null || fail "CMake's $exe failed"
    done
    readelf -d "$work/cmake/step_static" | grep "libcadamp" >/dev/null && fail "cadamp::cadamp_static linked the shared library"
else
    echo "check-install: cmake not found, find_package(cadamp) not tried" >&2
fi

# In the build tree -lcadamp means the static library (the shared one has its own folder).
cc -std=c11 Examples/c/step.c -ICKernels/include -Lbuild/c -lcadamp -lgomp -lm -o "$work/tree"
readelf -d "$work/tree" | grep libcadamp >/dev/null && fail "-Lbuild/c -lcadamp linked a shared library"

make -s -C CKernels uninstall PREFIX="$prefix" >/dev/null
left=$(find "$prefix" -type f -o -type l)
[ -z "$left" ] || fail "make uninstall left: $left"
[ "$fails" -eq 0 ] || exit 1
echo "install: libcadamp $version installed, linked (pkg-config shared and static, C++, CMake) and uninstalled"
