#!/usr/bin/env bash
# Benchmark-only: build mediasoup 3.27.1's own C++ worker (the baseline that
# our C worker is compared against) from its npm tarball, with Debian 12's
# libraries, into build/mediasoup-worker/mediasoup-worker.
#
#   bash scripts/build-mediasoup-worker.sh        (from any cwd; make mediasoup-worker)
#
# Nothing of mediasoup's is committed: `npm pack mediasoup@3.27.1` puts the
# tarball (integrity checked against the pin below) in build/mediasoup-src/,
# it is unpacked there, patched there, and meson/ninja build its worker/ into
# build/mediasoup-worker/ (build/ is git-ignored). What is committed is this
# script and scripts/mediasoup-baseline/ (our stand-ins for mediasoup's wraps).
#
# Configuration: mediasoup's default one, as `npm install mediasoup` builds it
# (meson --buildtype release -Db_ndebug=true, every option in
# meson_options.txt at its default), so ms_use_builtin_bwe=false: the worker
# has deps/libwebrtc (GoogCC send-side bandwidth estimation, with abseil)
# compiled in, as users get it.
#
# Replaced wraps (mediasoup's subprojects/*.wrap all download from GitHub or
# wrapdb, which this machine cannot reach; meson runs with
# --wrap-mode=nodownload and the .wrap files are removed from the tree):
#   libuv 1.51.0        -> Debian libuv1-dev 1.44 (subprojects/libuv stand-in:
#                          every libuv call the worker makes exists in 1.44)
#   openssl 3.0.8       -> Debian libssl-dev 3.0.x (subprojects/openssl stand-in)
#   libsrtp3 3.0.0-beta -> our libsrtp 2.5 (Debian's source package built with
#                          OpenSSL into build/deps/srtp by build-libsrtp.sh)
#                          plus OUR SHIM of the libsrtp 3.0 API the worker uses
#                          (opaque srtp_policy_t with srtp_policy_create/
#                          _set_ssrc/_set_profile/_add_key/_set_allow_repeat_tx/
#                          _set_window_size/_destroy, the 3.0 srtp_protect/
#                          srtp_unprotect(_rtcp) signatures with separate
#                          in/out buffers, srtp_stream_remove, error codes 28/29):
#                          mediasoup-baseline/subprojects/libsrtp3/srtp.h + srtp3_shim.cpp
#   flatbuffers 24.3.25 -> Debian libflatbuffers-dev + flatbuffers-compiler
#                          2.0.8: the npm tarball ships only the .fbs schemas
#                          (no generated C++), so fbs/FBS/meson.build runs
#                          Debian's flatc; generated code and headers are one
#                          release (the generated code static_asserts it), flatc
#                          2.0.8 has every option mediasoup passes, and the
#                          FlatBuffers wire format is unchanged between them
#   unordered_dense 4.8.1 -> OUR MINIMAL SHIM HEADER (not in Debian 12):
#                          mediasoup-baseline/unordered_dense/ankerl/unordered_dense.h,
#                          map/set/hash with unordered_dense's value layout
#                          (contiguous std::vector of std::pair<K,V>, insertion
#                          order, erase moves the last element into the hole)
#                          and its wyhash integer mix, but a std::unordered_map
#                          key->index lookup instead of its open addressing: a
#                          slightly slower map than what mediasoup ships, so a
#                          slightly pessimistic baseline; found through a
#                          generated unordered_dense.pc
#   abseil-cpp 20240722 -> Debian libabsl-dev 20220623 (subprojects/abseil-cpp
#                          stand-in; libwebrtc only uses absl optional, memory,
#                          string_view and StrContains)
#   catch2, wingetopt    -> not used (tests off, not Windows)
# Patches applied to the unpacked tree (never committed):
#   meson.build: meson_version '>= 1.1.0' -> '>= 1.0.0' when Debian's meson is
#     older (Debian 12 has 1.0.1, mediasoup pins 1.12.0 through pip, which is
#     not reachable here); the build files use nothing newer (meson would warn
#     or fail if they did; setup prints no warning)
#   src/RTC/DtlsTransport.cpp, onSslBioOut(): the BIO callback answered every
#     BIO_CB_RETURN|<op> call with 1 instead of the operation's result, since
#     it tested `operationType == BIO_CB_RETURN`; Debian's OpenSSL is built with
#     kernel TLS, so BIO_get_ktls_send() on the write BIO then answers 1, and
#     OpenSSL takes the mem BIO for a kTLS socket and crashes in the first
#     handshake (seen here: SIGSEGV in werift's first DTLS handshake without the
#     fix). Fixed as `(operationType & BIO_CB_RETURN)`. Presumably hidden
#     upstream because the wrap's OpenSSL is built without kTLS; Debian's
#     <openssl/configuration.h> does not define OPENSSL_NO_KTLS.
# Other differences from mediasoup's own build: Debian's libuv, OpenSSL and
# abseil are linked as shared libraries (mediasoup links its wraps statically);
# libsrtp 2.5 works in place, so the shim copies each outgoing packet into the
# output buffer before protecting it (as mediasoup's earlier libsrtp 2 based code did).
#
# Idempotent: a second run with nothing changed does no network access and
# only asks ninja (nothing to do). The tree is unpacked again (and the build
# directory wiped) only when the tarball, our stand-ins or RECIPE change.
#
# Env knobs:
#   JOBS=N                 ninja -jN (default 2: the machine has 2 shared cores)
#   MS_BASELINE_FORCE=1    unpack and build from scratch
set -euo pipefail

# Bump when the steps below change in a way that needs a fresh tree/build dir.
RECIPE=1
MS_VERSION=3.27.1
# `npm view mediasoup@3.27.1 dist.integrity`
MS_INTEGRITY='sha512-unjG0ihJFZmCXxtS5ay6iPp+ov1Rg/BhJuP1gGfw4ElX/K5Z0it3PCC7rKecWMK2FgbQ52kKmDgZBPm/ewYO6A=='

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
SHIMS="$SCRIPT_DIR/mediasoup-baseline"
SRC_DIR="$REPO_ROOT/build/mediasoup-src"
TARBALL="$SRC_DIR/mediasoup-$MS_VERSION.tgz"
TREE="$SRC_DIR/package/worker"
OUT="$REPO_ROOT/build/mediasoup-worker"
PCDIR="$SRC_DIR/pkgconfig"
SRTP_PC="$REPO_ROOT/build/deps/srtp/lib/pkgconfig"
BIN="$OUT/mediasoup-worker"
JOBS="${JOBS:-2}"
START=$(date +%s)

log() { printf '[ms-worker] %s\n' "$*" >&2; }
die() { printf '[ms-worker] ERROR: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
export DEBIAN_FRONTEND=noninteractive

mkdir -p "$SRC_DIR"
exec 9>"$SRC_DIR/.lock"
flock 9

# ------------------------------------------------------------ 1. Debian packages
APT_PACKAGES=(
    build-essential pkg-config meson ninja-build
    libuv1-dev libssl-dev libabsl-dev libflatbuffers-dev flatbuffers-compiler
    dpkg-dev                         # build-libsrtp.sh (apt-get source)
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    case "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)" in
        ii*) ;;
        *) missing+=("$p") ;;
    esac
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
fi

# ------------------------------------------------------------ 2. libsrtp 2.5 (OpenSSL)
bash "$SCRIPT_DIR/build-libsrtp.sh"
[ -f "$SRTP_PC/libsrtp2.pc" ] || die "no $SRTP_PC/libsrtp2.pc after build-libsrtp.sh"

# ------------------------------------------------------------ 3. the npm tarball
integrity_of() { printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }
if [ ! -f "$TARBALL" ] || [ "$(integrity_of "$TARBALL")" != "$MS_INTEGRITY" ]; then
    rm -f "$TARBALL"
    log "npm pack mediasoup@$MS_VERSION"
    (cd "$SRC_DIR" && npm pack "mediasoup@$MS_VERSION" --silent >/dev/null)
    [ -f "$TARBALL" ] || die "npm pack did not produce $TARBALL"
    [ "$(integrity_of "$TARBALL")" = "$MS_INTEGRITY" ] \
        || die "$TARBALL: integrity $(integrity_of "$TARBALL") is not the pinned $MS_INTEGRITY"
fi

# ------------------------------------------------------------ 4. unpacked, patched tree
# The stamp covers the tarball, our stand-ins and this recipe.
stamp="tarball=$MS_INTEGRITY recipe=$RECIPE shims=$(
    cd "$SHIMS" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
if [ "${MS_BASELINE_FORCE:-0}" = 1 ] || [ ! -f "$TREE/meson.build" ] \
   || [ "$(cat "$SRC_DIR/.tree-stamp" 2>/dev/null || true)" != "$stamp" ]; then
    log "unpacking $TARBALL (fresh tree and build directory)"
    rm -rf "$SRC_DIR/package" "$OUT" "$PCDIR" "$SRC_DIR/.tree-stamp"
    tar -xzf "$TARBALL" -C "$SRC_DIR"

    # 4a. meson_version: Debian 12's meson is 1.0.1.
    meson_ver="$(meson --version)"
    if ! printf '1.1.0\n%s\n' "$meson_ver" | sort -V -C; then
        grep -q "meson_version: '>= 1.1.0'" "$TREE/meson.build" \
            || die "meson.build: meson_version line not found"
        sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.0'/" "$TREE/meson.build"
        log "patched meson.build: meson_version >= 1.0.0 (Debian meson $meson_ver)"
    fi

    # 4b. DTLS write-BIO callback (see the header).
    bio_old='const long resultOfcallback = (operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;'
    bio_new='const long resultOfcallback = (operationType \& BIO_CB_RETURN) ? static_cast<long>(ret) : 1;'
    [ "$(grep -cF "$bio_old" "$TREE/src/RTC/DtlsTransport.cpp")" = 1 ] \
        || die "src/RTC/DtlsTransport.cpp: onSslBioOut() result line not found exactly once"
    sed -i "s/(operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;/(operationType \& BIO_CB_RETURN) ? static_cast<long>(ret) : 1;/" \
        "$TREE/src/RTC/DtlsTransport.cpp"
    grep -qF "${bio_new//\\/}" "$TREE/src/RTC/DtlsTransport.cpp" || die "DtlsTransport.cpp patch did not apply"
    log "patched src/RTC/DtlsTransport.cpp: onSslBioOut() tests operationType & BIO_CB_RETURN"

    # 4c. Wraps -> stand-ins.
    rm -f "$TREE"/subprojects/*.wrap
    cp -R "$SHIMS/subprojects/." "$TREE/subprojects/"

    # 4d. unordered_dense shim found by pkg-config (mediasoup asks
    # dependency('unordered_dense')), and libsrtp2 from build/deps/srtp.
    mkdir -p "$PCDIR"
    cat >"$PCDIR/unordered_dense.pc" <<EOF
# Generated by scripts/build-mediasoup-worker.sh: our minimal ankerl::unordered_dense shim.
Name: unordered_dense
Description: minimal ankerl::unordered_dense 4.8.1 API shim (map, set, hash) on std::vector + std::unordered_map
Version: 4.8.1
Cflags: -I$SHIMS/unordered_dense
EOF
    printf '%s\n' "$stamp" >"$SRC_DIR/.tree-stamp"
fi

# ------------------------------------------------------------ 5. meson + ninja
if [ ! -f "$OUT/build.ninja" ]; then
    log "meson setup (release, mediasoup's default options: libwebrtc GoogCC on)"
    rm -rf "$OUT"
    meson setup "$OUT" "$TREE" \
        --buildtype release -Db_ndebug=true \
        --wrap-mode=nodownload \
        -Dpkg_config_path="$PCDIR:$SRTP_PC" \
        -Dms_use_builtin_bwe=false \
        >"$SRC_DIR/meson-setup.log" 2>&1 \
        || { tail -n 40 "$SRC_DIR/meson-setup.log" >&2; die "meson setup failed (log: $SRC_DIR/meson-setup.log)"; }
    grep -i 'warning' "$SRC_DIR/meson-setup.log" >&2 || true
fi
log "ninja -j$JOBS mediasoup-worker"
ninja -C "$OUT" -j"$JOBS" mediasoup-worker

# ------------------------------------------------------------ 6. checks
[ -x "$BIN" ] || die "no $BIN after ninja"
# Nothing may have been downloaded.
[ ! -d "$TREE/subprojects/packagecache" ] || die "meson downloaded into subprojects/packagecache"
# GoogCC really compiled in (the default configuration).
grep -q -- '-DMS_USE_BUILTIN_BWE' "$OUT/build.ninja" && die "built with MS_USE_BUILTIN_BWE (not the default)"
nm -C "$BIN" 2>/dev/null | grep 'webrtc::GoogCcNetworkController::' >/dev/null \
    || die "$BIN has no webrtc::GoogCcNetworkController (libwebrtc BWE missing)"
log "built $BIN ($(du -h "$BIN" | cut -f1)) in $(( $(date +%s) - START ))s: mediasoup $MS_VERSION, default options (libwebrtc GoogCC in)"
