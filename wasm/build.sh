#!/usr/bin/env bash
# Builds OpenCV.js with wasm SIMD (and SIMD + pthreads) from Debian's own source packages
# (opencv, protobuf, zlib) with Debian's emscripten, and copies the artifacts to wasm/dist/.
#
#   wasm/build.sh                 # every step: deps fetch zlib protobuf opencv dist
#   wasm/build.sh deps fetch      # only the light steps (apt installs, source download)
#   wasm/build.sh opencv dist     # rebuild from sources already fetched
#   wasm/build.sh patch           # only apply wasm/patches/ to the fetched OpenCV source (the
#                                 # opencv step does this itself)
#
# Environment (defaults in brackets):
#   WORK      work dir outside the repo, holds sources, builds and logs [/work/opencv-build]
#   DIST      where the dist step puts the variant folders [wasm/dist]; when set elsewhere, the
#             LICENSE-* files and BUILD-INFO.json go into DIST too, and wasm/ is left untouched
#   VARIANTS  which OpenCV.js to build: simd, simd-threads ["simd simd-threads"]
#   NICE      prefix of every compiling command ["nice -n 19"]
#   JOBS      parallel compile jobs for zlib/protobuf [nproc]; OpenCV uses build_js.py's make -j nproc
#   OPENCV_SUITE  the Debian suite OpenCV's source package comes from [bookworm]; another suite
#             (e.g. trixie) gets a deb-src entry of its own, used for opencv only
#   OPENCV_DEB, ZLIB_DEB, PROTOBUF_DEB   Debian source versions [pinned below; protobuf = the
#             installed protobuf-compiler, whose protoc must match the library's headers; zlib and
#             protobuf always come from bookworm]
#   GATE_FILE if set, the compiling steps wait (polling every 30 s) until this file exists
#
# Logs go to $WORK/logs/*.log, never to the terminal (one OpenCV build logs ~20 MB of
# "wasm_v8x16_shuffle is deprecated" warnings). Needs root for apt-get (deps step only).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=${WORK:-/work/opencv-build}
VARIANTS=${VARIANTS:-"simd simd-threads"}
NICE=${NICE:-"nice -n 19"}
JOBS=${JOBS:-$(nproc)}
OPENCV_SUITE=${OPENCV_SUITE:-bookworm}
OPENCV_DEB=${OPENCV_DEB:-4.6.0+dfsg-12}
ZLIB_DEB=${ZLIB_DEB:-1:1.2.13.dfsg-1}
GATE_FILE=${GATE_FILE:-}
DIST=${DIST:-$HERE/dist}
# LICENSE-* and BUILD-INFO.json sit next to dist/ in the repo, inside DIST elsewhere.
if [ "$(realpath -m "$DIST")" = "$HERE/dist" ]; then META=$HERE; else META=$DIST; fi
EMSCRIPTEN_DIR=/usr/share/emscripten
TOOLCHAIN=$EMSCRIPTEN_DIR/cmake/Modules/Platform/Emscripten.cmake

# Trap 1: Debian's emcc runs its JS optimizer with the system node and cannot find `acorn`
# under a node that is not Debian's own unless NODE_PATH points at Debian's node modules.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}

SRC=$WORK/src
LOGS=$WORK/logs
APT_DIR=$WORK/apt
APT_OPTS=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o "Dir::Etc::SourceParts=$APT_DIR/parts"
          -o "Dir::State::Lists=$APT_DIR/lists")
mkdir -p "$WORK" "$LOGS"

say() { printf '[build.sh %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }
# run LOG CMD...: runs CMD with stdout+stderr appended to $LOGS/LOG; on failure shows the tail.
run() {
  local log=$LOGS/$1; shift
  printf '\n### %s\n### %s\n' "$(date -Is)" "$*" >> "$log"
  if ! "$@" >> "$log" 2>&1; then
    say "FAILED: $* (log: $log); last lines:" >&2
    grep -v 'wasm_v8x16_shuffle\|deprecated\|^ *[0-9]* | \|^ *| *\^\|note: ' "$log" | tail -25 >&2
    exit 1
  fi
}
gate() {
  [ -n "$GATE_FILE" ] || return 0
  while [ ! -e "$GATE_FILE" ]; do say "waiting for $GATE_FILE before compiling"; sleep 30; done
}
installed_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }

# ---------------------------------------------------------------------------------------------
step_deps() {
  local need=()
  for p in emscripten protobuf-compiler dpkg-dev cmake make patch python3 xz-utils bzip2 gzip; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    say "apt-get install ${need[*]}"
    run apt.log apt-get update
    run apt.log env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
  fi
  say "emscripten $(installed_version emscripten), protoc $(installed_version protobuf-compiler)"
}

# Private apt configuration: deb-src entries for bookworm (+updates, +security) without touching
# /etc/apt. Its package lists live under $WORK/apt/lists. With OPENCV_SUITE other than bookworm,
# opencv alone is fetched through a second configuration ($WORK/apt/opencv-SUITE) that adds that
# suite's deb-src entry, so protobuf and zlib cannot be picked from it by accident.
step_fetch() {
  local protobuf_deb=${PROTOBUF_DEB:-$(installed_version protobuf-compiler)}
  [ -n "$protobuf_deb" ] || die "protobuf-compiler is not installed (run the deps step)"
  mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/parts" "$SRC"
  cat > "$APT_DIR/sources.list" <<'EOF'
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian bookworm-updates main
deb-src http://deb.debian.org/debian-security bookworm-security main
EOF
  run fetch.log apt-get "${APT_OPTS[@]}" update
  # apt-get source runs dpkg-source -x, which applies each package's debian/patches series.
  if [ "$OPENCV_SUITE" = bookworm ]; then
    say "apt-get source opencv=$OPENCV_DEB protobuf=$protobuf_deb zlib=$ZLIB_DEB"
    (cd "$SRC" && run fetch.log apt-get "${APT_OPTS[@]}" source --only-source \
        "opencv=$OPENCV_DEB" "protobuf=$protobuf_deb" "zlib=$ZLIB_DEB")
  else
    local oapt=$APT_DIR/opencv-$OPENCV_SUITE
    mkdir -p "$oapt/lists/partial" "$oapt/parts"
    { cat "$APT_DIR/sources.list"
      echo "deb-src http://deb.debian.org/debian $OPENCV_SUITE main"; } > "$oapt/sources.list"
    local oopts=(-o "Dir::Etc::SourceList=$oapt/sources.list" -o "Dir::Etc::SourceParts=$oapt/parts"
                 -o "Dir::State::Lists=$oapt/lists")
    say "apt-get source protobuf=$protobuf_deb zlib=$ZLIB_DEB (bookworm), opencv=$OPENCV_DEB ($OPENCV_SUITE)"
    (cd "$SRC" && run fetch.log apt-get "${APT_OPTS[@]}" source --only-source \
        "protobuf=$protobuf_deb" "zlib=$ZLIB_DEB")
    run fetch.log apt-get "${oopts[@]}" update
    # The mirror answers 404 for trixie's opencv .dsc (the tarballs download fine, checked by apt
    # against the signed Sources index). If the .dsc is missing, rebuild it from that index entry.
    if ! (cd "$SRC" && apt-get "${oopts[@]}" source --only-source "opencv=$OPENCV_DEB" >> "$LOGS/fetch.log" 2>&1); then
      dsc_from_index opencv "$OPENCV_DEB" "${oopts[@]}"
    fi
  fi
  printf '%s\n' "$OPENCV_SUITE" > "$SRC/opencv.suite"
  printf '%s\n' "$OPENCV_DEB" > "$SRC/opencv.version"
  printf '%s\n' "$protobuf_deb" > "$SRC/protobuf.version"
  printf '%s\n' "$ZLIB_DEB" > "$SRC/zlib.version"
}

# dsc_from_index PKG VERSION APT-OPTS...: for a source package whose files apt downloaded but whose
# .dsc the mirror did not serve: writes the .dsc from the Sources index entry (same fields, minus
# the .dsc's own line and the signature), checks the downloaded files' sha256 against it and
# unpacks with dpkg-source -x, which applies the debian/patches series as apt-get source would.
dsc_from_index() {
  local pkg=$1 ver=$2; shift 2
  local up=${ver#*:}; up=${up%-*}
  local dsc="${pkg}_${ver#*:}.dsc"
  say "no $dsc from the mirror: writing it from the Sources index"
  apt-cache "$@" showsrc "$pkg" > "$SRC/$pkg.showsrc" 2>> "$LOGS/fetch.log"
  python3 - "$SRC/$pkg.showsrc" "$ver" "$SRC/$dsc" <<'PY' || die "no $pkg $ver in the Sources index"
import sys
src, ver, out = sys.argv[1:]
keep = ('Format', 'Source', 'Binary', 'Architecture', 'Version', 'Maintainer', 'Homepage',
        'Standards-Version', 'Checksums-Sha256', 'Files')
for st in open(src, encoding='utf-8', errors='replace').read().split('\n\n'):
    fields, cur = {}, None
    for line in st.splitlines():
        if line[:1] in (' ', '\t') and cur:
            fields[cur].append(line)
        elif ':' in line:
            cur, v = line.split(':', 1)
            fields[cur] = [v.strip()]
    if fields.get('Version', [''])[0] != ver:
        continue
    fields['Source'] = fields.pop('Package')
    lines = []
    for k in keep:
        if k not in fields:
            continue
        first, *rest = fields[k]
        rest = [r for r in rest if not r.rstrip().endswith('.dsc')]
        lines.append(f'{k}: {first}'.rstrip())
        lines += rest
    open(out, 'w').write('\n'.join(lines) + '\n')
    sys.exit(0)
sys.exit(1)
PY
  (cd "$SRC" && awk '/^Checksums-Sha256:/{f=1;next} /^[^ ]/{f=0} f{print $1"  "$3}' "$dsc" > "$pkg.sha256" \
     && run fetch.log sha256sum -c "$pkg.sha256" \
     && run fetch.log dpkg-source -x "$dsc" "$pkg-$up")
}

src_dir() { # the unpacked source tree of a package
  local d
  d=$(find "$SRC" -maxdepth 1 -type d -name "$1-*" | sort | tail -1)
  [ -n "$d" ] || die "no unpacked $1 source under $SRC (run the fetch step)"
  printf '%s' "$d"
}

# flavours of the dependencies: "simd" (-msimd128) and "simd-mt" (-msimd128 -pthread; a threads
# build links with shared memory, and every object must then be built with atomics).
flavours() {
  local f=()
  for v in $VARIANTS; do case $v in simd) f+=(simd) ;; simd-threads) f+=(simd-mt) ;; *) die "unknown variant $v" ;; esac; done
  printf '%s\n' "${f[@]}" | sort -u
}
flavour_flags() { case $1 in simd) echo "-O3 -msimd128" ;; simd-mt) echo "-O3 -msimd128 -pthread" ;; esac; }

# ---------------------------------------------------------------------------------------------
# zlib (core's dependency: the +dfsg OpenCV tarball has no 3rdparty/): compiled file by file with
# emcc into a static libz.a per flavour.
step_zlib() {
  gate
  local zsrc; zsrc=$(src_dir zlib)
  for fl in $(flavours); do
    local out=$WORK/deps/$fl/zlib
    say "zlib ($fl) -> $out"
    rm -rf "$out" && mkdir -p "$out/obj" "$out/include" "$out/lib"
    local cflags; cflags=$(flavour_flags "$fl")
    for c in adler32 compress crc32 deflate gzclose gzlib gzread gzwrite infback inffast inflate \
             inftrees trees uncompr zutil; do
      run "zlib-$fl.log" $NICE emcc $cflags -DHAVE_UNISTD_H -DHAVE_STDARG_H -I"$zsrc" \
          -c "$zsrc/$c.c" -o "$out/obj/$c.o"
    done
    run "zlib-$fl.log" emar rcs "$out/lib/libz.a" "$out"/obj/*.o
    cp "$zsrc/zlib.h" "$zsrc/zconf.h" "$out/include/"
  done
}

# protobuf runtime library (dnn's dependency), from Debian's protobuf source (same version as
# the protoc that regenerates dnn's .pb.cc files).
step_protobuf() {
  gate
  local psrc; psrc=$(src_dir protobuf)
  for fl in $(flavours); do
    local b=$WORK/deps/$fl/protobuf-build
    say "protobuf ($fl) -> $b"
    rm -rf "$b"
    local cflags; cflags=$(flavour_flags "$fl")
    run "protobuf-$fl.log" cmake -S "$psrc" -B "$b" -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="$cflags" -DCMAKE_CXX_FLAGS="$cflags" \
        -Dprotobuf_BUILD_TESTS=OFF -Dprotobuf_BUILD_CONFORMANCE=OFF -Dprotobuf_BUILD_EXAMPLES=OFF \
        -Dprotobuf_BUILD_PROTOC_BINARIES=OFF -Dprotobuf_BUILD_LIBPROTOC=OFF \
        -Dprotobuf_BUILD_SHARED_LIBS=OFF -Dprotobuf_WITH_ZLIB=OFF -Dprotobuf_INSTALL=OFF
    run "protobuf-$fl.log" $NICE cmake --build "$b" --target libprotobuf -j "$JOBS"
    [ -f "$b/libprotobuf.a" ] || die "libprotobuf.a not produced (see $LOGS/protobuf-$fl.log)"
  done
}

# The project's own patches to OpenCV (wasm/patches/opencv-X.Y.Z/*.patch, in name order) for the
# OpenCV version being built; none for other versions. Applying is idempotent: a patch that is
# already in the tree (it reverses cleanly) is skipped, and one that neither applies nor reverses
# stops the build.
apply_patches() {
  local osrc=$1 ver; ver=$(cat "$SRC/opencv.version"); ver=${ver%%+*}; ver=${ver%%-*}
  local dir=$HERE/patches/opencv-$ver
  if [ ! -d "$dir" ]; then say "no patches for OpenCV $ver ($dir)"; return 0; fi
  local p
  for p in "$dir"/*.patch; do
    if patch -d "$osrc" -p1 -R -f -s --dry-run < "$p" > /dev/null 2>&1; then
      say "patch $(basename "$p"): already applied"
    elif patch -d "$osrc" -p1 -N -f --dry-run < "$p" >> "$LOGS/patches.log" 2>&1; then
      patch -d "$osrc" -p1 -N -f < "$p" >> "$LOGS/patches.log" 2>&1 || die "patch $(basename "$p") failed (see $LOGS/patches.log)"
      say "patch $(basename "$p"): applied"
    else
      die "patch $(basename "$p") does not apply to $osrc (see $LOGS/patches.log)"
    fi
  done
}

step_patch() { apply_patches "$(src_dir opencv)"; }

# ---------------------------------------------------------------------------------------------
step_opencv() {
  gate
  local osrc; osrc=$(src_dir opencv)
  local psrc; psrc=$(src_dir protobuf)
  step_patch
  # Options that differ between OpenCV versions.
  local extra=()
  if grep -q disable_single_file "$osrc/platforms/js/build_js.py"; then
    # 4.10's build_js.py has an option to emit the wasm as a separate file.
    extra+=(--disable_single_file)
  else
    # 4.6: modules/js/CMakeLists.txt hard-codes -s SINGLE_FILE=1 in the link flags, which come
    # after CMAKE_CXX_FLAGS (so --build_flags cannot override it): edit it in the work tree.
    sed -i 's/-s SINGLE_FILE=1/-s SINGLE_FILE=0/' "$osrc/modules/js/CMakeLists.txt"
    grep -q 'SINGLE_FILE=0' "$osrc/modules/js/CMakeLists.txt" || die "could not switch off SINGLE_FILE"
  fi
  # 4.10: dnn's TFLite importer wants 3rdparty/flatbuffers, which the +dfsg tarball lacks (Debian
  # builds with WITH_FLATBUFFERS=OFF too).
  if [ -f "$osrc/cmake/OpenCVDetectFlatbuffers.cmake" ]; then extra+=(--cmake_option=-DWITH_FLATBUFFERS=OFF); fi
  for v in $VARIANTS; do
    local fl=simd threads=()
    [ "$v" = simd-threads ] && { fl=simd-mt; threads=(--threads); }
    local deps=$WORK/deps/$fl b=$WORK/build-$v
    [ -f "$deps/protobuf-build/libprotobuf.a" ] && [ -f "$deps/zlib/lib/libz.a" ] \
      || die "missing $fl protobuf/zlib (run the zlib and protobuf steps)"
    say "OpenCV.js $v -> $b (log: $LOGS/opencv-$v.log)"
    rm -rf "$b"
    # Trap 2: `emcmake python3 build_js.py` breaks on emscripten 3.1.6 (argparse rejects the cmake
    # flags emcmake appends, and EMSCRIPTEN stays unset): call build_js.py with EMSCRIPTEN set.
    # Trap 3: no 3rdparty/ in the +dfsg tarball: point OpenCV at the cross-compiled protobuf and
    # zlib, regenerate dnn's .pb.cc with Debian's protoc, and drop quirc/openjpeg.
    run "opencv-$v.log" env EMSCRIPTEN="$EMSCRIPTEN_DIR" $NICE python3 "$osrc/platforms/js/build_js.py" "$b" \
        --build_wasm --simd "${threads[@]}" --config "$HERE/opencv_js.config.py" \
        --cmake_option=-DBUILD_LIST=core,imgproc,dnn,js \
        --cmake_option=-DBUILD_TESTS=OFF --cmake_option=-DBUILD_PERF_TESTS=OFF \
        --cmake_option=-DBUILD_EXAMPLES=OFF \
        --cmake_option=-DBUILD_PROTOBUF=OFF --cmake_option=-DPROTOBUF_UPDATE_FILES=ON \
        --cmake_option=-DProtobuf_INCLUDE_DIR="$psrc/src" \
        --cmake_option=-DProtobuf_LIBRARY="$deps/protobuf-build/libprotobuf.a" \
        --cmake_option=-DProtobuf_PROTOC_EXECUTABLE=/usr/bin/protoc \
        --cmake_option=-DBUILD_ZLIB=OFF \
        --cmake_option=-DZLIB_INCLUDE_DIR="$deps/zlib/include" \
        --cmake_option=-DZLIB_LIBRARY="$deps/zlib/lib/libz.a" \
        --cmake_option=-DWITH_QUIRC=OFF --cmake_option=-DWITH_OPENJPEG=OFF "${extra[@]}"
    [ -f "$b/bin/opencv.js" ] && [ -f "$b/bin/opencv_js.wasm" ] || die "no bin/opencv.js + opencv_js.wasm in $b"
  done
}

# ---------------------------------------------------------------------------------------------
step_dist() {
  local osrc; osrc=$(src_dir opencv)
  local psrc; psrc=$(src_dir protobuf)
  local zsrc; zsrc=$(src_dir zlib)
  for v in $VARIANTS; do
    local b=$WORK/build-$v/bin d=$DIST/$v
    [ -f "$b/opencv.js" ] || die "no build of $v (run the opencv step)"
    rm -rf "$d" && mkdir -p "$d"
    cp "$b/opencv.js" "$b/opencv_js.wasm" "$d/"
    if [ "$v" = simd-threads ]; then
      # Workers load the raw Emscripten glue (not the UMD wrapper, which starts a runtime of its
      # own); the worker script must sit next to it.
      cp "$b/opencv_js.js" "$b/opencv_js.worker.js" "$d/"
    fi
    chmod 644 "$d"/*
    # The repo's package.json says "type": "module": Node would load opencv_js.worker.js (and
    # opencv_js.js) as ES modules and fail on `require`. These files are CommonJS/scripts.
    printf '{\n  "type": "commonjs"\n}\n' > "$d/package.json"
  done
  cp "$osrc/LICENSE" "$META/LICENSE-opencv"
  cp "$psrc/LICENSE" "$META/LICENSE-protobuf"
  cp "$zsrc/LICENSE" "$META/LICENSE-zlib" 2>/dev/null || sed -n '/Copyright (C)/,/madler@alumni.caltech.edu/p' "$zsrc/zlib.h" > "$META/LICENSE-zlib"
  write_info
  say "artifacts in $DIST, info in $META/BUILD-INFO.json"
}

write_info() {
  local files=()
  for v in $VARIANTS; do for f in "$DIST/$v"/*; do files+=("$f"); done; done
  local osrc; osrc=$(src_dir opencv)
  local llvm; llvm=$(clang-14 --version 2>/dev/null | head -1 || true)
  local node_v; node_v=$(/usr/bin/node --version 2>/dev/null || true)
  python3 - "$META" "$DIST" "$(cat "$SRC/opencv.suite" 2>/dev/null || echo bookworm)" "$osrc" "$(cat "$SRC/opencv.version")" "$(cat "$SRC/protobuf.version")" \
      "$(cat "$SRC/zlib.version")" "$(installed_version emscripten)" "$(emcc --version 2>/dev/null | head -1)" \
      "$(installed_version protobuf-compiler)" "$(installed_version binaryen)" "$llvm" "$node_v" \
      "$VARIANTS" "$HERE" "${files[@]}" <<'PY'
import gzip, hashlib, json, os, sys, datetime
here, dist, suite, osrc, ocv, pb, zl, em_deb, em_ver, protoc, binaryen, llvm, node, variants, wasm_dir, *files = sys.argv[1:]
flags = {
    'simd': {'build_js.py': '--build_wasm --simd', 'cflags': '-O3 -msimd128 -s USE_PTHREADS=0'},
    'simd-threads': {'build_js.py': '--build_wasm --simd --threads',
                     'cflags': '-O3 -msimd128 -s USE_PTHREADS=1 -s PTHREAD_POOL_SIZE=4'},
}
arts = {}
for f in files:
    b = open(f, 'rb').read()
    rel = 'dist/' + os.path.relpath(f, dist)
    arts[rel] = {'bytes': len(b), 'gzipBytes': len(gzip.compress(b, 9, mtime=0)),
                 'sha256': hashlib.sha256(b).hexdigest()}
pdir = os.path.join(wasm_dir, 'patches', 'opencv-' + ocv.split('+')[0].split('-')[0])
patches = {}
if os.path.isdir(pdir):
    for f in sorted(os.listdir(pdir)):
        if f.endswith('.patch'):
            patches['patches/' + os.path.basename(pdir) + '/' + f] = hashlib.sha256(open(os.path.join(pdir, f), 'rb').read()).hexdigest()
info = {
    'builtBy': 'wasm/build.sh',
    'builtAt': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
    'debianSourcePackages': {'opencv': ocv, 'protobuf': pb, 'zlib': zl},
    'debianSuites': {'opencv': suite, 'protobuf': 'bookworm', 'zlib': 'bookworm'},
    'toolchain': {'emscripten (Debian)': em_deb, 'emcc --version': em_ver, 'clang': llvm,
                  'binaryen (Debian)': binaryen, 'protoc (protobuf-compiler)': protoc,
                  'node used by emcc': node},
    'opencvModules': ['core', 'imgproc', 'dnn', 'js'],
    'bindingsWhiteList': 'wasm/opencv_js.config.py',
    'patches': patches,
    'linkFlags': '-s MODULARIZE=1 -s EXPORT_NAME=cv -s SINGLE_FILE=0 -s ALLOW_MEMORY_GROWTH=1 '
                 '-s TOTAL_MEMORY=128MB -s WASM_MEM_MAX=1GB -s FORCE_FILESYSTEM=1 --bind',
    'variants': {v: flags[v] for v in variants.split()},
    'artifacts': arts,
}
with open(os.path.join(here, 'BUILD-INFO.json'), 'w') as fh:
    json.dump(info, fh, indent=2)
    fh.write('\n')
PY
}

# ---------------------------------------------------------------------------------------------
STEPS=("$@")
[ ${#STEPS[@]} -gt 0 ] || STEPS=(deps fetch zlib protobuf opencv dist)
for s in "${STEPS[@]}"; do
  case $s in
    deps|fetch|patch|zlib|protobuf|opencv|dist) say "== $s"; "step_$s" ;;
    *) die "unknown step '$s' (steps: deps fetch patch zlib protobuf opencv dist)" ;;
  esac
done
say "done: ${STEPS[*]}"
