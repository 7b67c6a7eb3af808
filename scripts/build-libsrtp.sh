#!/usr/bin/env bash
# Build libsrtp2 from Debian's *source* package with OpenSSL crypto, as a static
# library + headers under <repo>/build/deps/srtp.
#
# Why: Debian's binary libsrtp2-1 is built against NSS and is several times
# slower per packet than libsrtp on OpenSSL.  The worker links
#     -I<repo>/build/deps/srtp/include  <repo>/build/deps/srtp/lib/libsrtp2.a -lcrypto
#
# One patch of ours is applied to the Debian source: scripts/libsrtp-gcm-evp.patch
# (AES-GCM on OpenSSL 3: the tag set/read through OSSL_PARAMs instead of the
# ctrl translation, the IV length set once per key instead of per packet, no
# dummy tag before the AAD, a packet's IV set as one provider parameter
# instead of a full EVP_CipherInit_ex; callgrind: K = 1 GCM forwarding 5950
# -> 5390 -> 4970 instructions per packet, see README, Performance).
#
# Idempotent: does nothing if build/deps/srtp/lib/libsrtp2.a exists and the
# stamp file records the same Debian source version and build recipe.
# Works from any cwd.  Needs: dpkg-dev (apt-get source), build-essential,
# libssl-dev (scripts/setup.sh installs them).
#
# Env knobs:
#   SFU_SRTP_FORCE=1   rebuild even if the stamp matches
set -euo pipefail

# Bump when the configure/build steps below change, to force a rebuild.
RECIPE=3
SRC_PKG=libsrtp2

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
DEPS_DIR="$REPO_ROOT/build/deps"
PREFIX="$DEPS_DIR/srtp"
STAMP="$PREFIX/.stamp"
LIB="$PREFIX/lib/libsrtp2.a"
OUR_SOURCES=/etc/apt/sources.list.d/sfu-deb-src.sources

log() { printf '[build-libsrtp] %s\n' "$*" >&2; }
die() { printf '[build-libsrtp] ERROR: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
export DEBIAN_FRONTEND=noninteractive

mkdir -p "$DEPS_DIR"
# Serialise concurrent runs (e.g. two setup.sh at once).
exec 9>"$DEPS_DIR/.libsrtp.lock"
flock 9

# Print the Debian source version apt would fetch (e.g. 2.5.0-3), or nothing
# if no deb-src entry provides the package.  Offline, fast.
candidate_version() {
    apt-get source --print-uris "$SRC_PKG" 2>/dev/null \
        | sed -n "s/^'[^']*' ${SRC_PKG}_\([^ ]*\)\.dsc .*/\1/p" | head -n1
}

stamp_line() { printf 'source=%s_%s recipe=%s crypto=openssl\n' "$SRC_PKG" "$1" "$RECIPE"; }

# ---------------------------------------------------------------- fast path
if [ -f "$LIB" ] && [ -f "$STAMP" ] && [ "${SFU_SRTP_FORCE:-0}" != 1 ]; then
    ver="$(candidate_version || true)"
    if [ -z "$ver" ]; then
        # deb-src lists not present: cannot tell if a newer source exists
        # without touching the network; trust the existing build.
        if grep -q " recipe=$RECIPE " "$STAMP"; then
            log "up to date ($(cat "$STAMP"); deb-src index not available to compare)"
            exit 0
        fi
    elif [ "$(cat "$STAMP")" = "$(stamp_line "$ver")" ]; then
        log "up to date ($SRC_PKG $ver, OpenSSL) in $PREFIX"
        exit 0
    fi
fi

# ------------------------------------------------- ensure a deb-src entry
# Derive deb-src stanzas from the existing Debian 'deb' entries of this
# release (same URIs/Suites/Components/Signed-By), rather than hardcoding hosts.
gen_deb_src() {
    local codename
    codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
    [ -n "$codename" ] || die "cannot determine VERSION_CODENAME from /etc/os-release"
    local f
    # deb822 files
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        [ "$f" = "$OUR_SOURCES" ] && continue
        awk -v code="$codename" '
            function flush(   i, n, w, hasdeb, suiteok, out) {
                if (nf == 0) return
                hasdeb = 0; suiteok = 0
                n = split(val["types"], w, /[ \t]+/)
                for (i = 1; i <= n; i++) if (w[i] == "deb") hasdeb = 1
                n = split(val["suites"], w, /[ \t]+/)
                for (i = 1; i <= n; i++)
                    if (w[i] == code || index(w[i], code "-") == 1) suiteok = 1
                if (tolower(val["enabled"]) == "no") hasdeb = 0
                if (hasdeb && suiteok && val["uris"] != "") {
                    print "Types: deb-src"
                    for (i = 1; i <= nf; i++)
                        if (key[i] != "types" && key[i] != "architectures")
                            print line[i]
                    print ""
                }
                nf = 0; delete val
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]/   { line[nf] = line[nf] "\n" $0; next }   # continuation
            {
                k = tolower($0); sub(/:.*/, "", k)
                v = $0; sub(/^[^:]*:[ \t]*/, "", v)
                nf++; key[nf] = k; line[nf] = $0; val[k] = v
            }
            END { flush() }
        ' "$f"
    done
    # legacy one-line format -> deb822
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk -v code="$codename" '
            /^[ \t]*deb[ \t]/ {
                sub(/#.*/, "")
                n = split($0, w, /[ \t]+/); i = 2; opts = ""
                if (w[i] ~ /^\[/) {                 # [ opt=val ... ]
                    while (i <= n) { opts = opts " " w[i]; if (w[i] ~ /\]$/) { i++; break } ; i++ }
                }
                uri = w[i]; suite = w[i+1]; comps = ""
                for (j = i + 2; j <= n; j++) if (w[j] != "") comps = comps " " w[j]
                if (!(suite == code || index(suite, code "-") == 1)) next
                print "Types: deb-src"; print "URIs: " uri; print "Suites: " suite
                print "Components:" comps
                if (match(opts, /signed-by=[^ \]]+/))
                    print "Signed-By: " substr(opts, RSTART + 10, RLENGTH - 10)
                print ""
            }' "$f"
    done
}

ver="$(candidate_version || true)"
if [ -z "$ver" ]; then
    content="$(gen_deb_src)"
    [ -n "$content" ] || die "no Debian 'deb' entries for this release found in /etc/apt to derive deb-src from"
    if [ ! -f "$OUR_SOURCES" ] || [ "$(cat "$OUR_SOURCES")" != "$content" ]; then
        log "adding deb-src entries: $OUR_SOURCES"
        printf '# Generated by %s: deb-src twins of the Debian deb entries.\n%s\n' \
            "scripts/build-libsrtp.sh" "$content" | "${SUDO[@]}" tee "$OUR_SOURCES" >/dev/null
    fi
    log "apt-get update (for deb-src indexes)"
    "${SUDO[@]}" apt-get update -qq
    ver="$(candidate_version || true)"
    [ -n "$ver" ] || die "apt still cannot find source package $SRC_PKG after adding $OUR_SOURCES"
fi

if [ -f "$LIB" ] && [ -f "$STAMP" ] && [ "${SFU_SRTP_FORCE:-0}" != 1 ] \
   && [ "$(cat "$STAMP")" = "$(stamp_line "$ver")" ]; then
    log "up to date ($SRC_PKG $ver, OpenSSL) in $PREFIX"
    exit 0
fi

# ---------------------------------------------------------- fetch + unpack
command -v dpkg-source >/dev/null || die "dpkg-source missing (install dpkg-dev)"
WORK="$DEPS_DIR/libsrtp2-src"
rm -rf "$WORK"
mkdir -p "$WORK"
log "fetching Debian source $SRC_PKG $ver"
# --download-only + dpkg-source -x: unpacks with the Debian patches applied.
(cd "$WORK" && apt-get source -qq --download-only "$SRC_PKG" >/dev/null 2>"$WORK/apt-source.log") \
    || { cat "$WORK/apt-source.log" >&2; die "apt-get source failed"; }
dsc="$(ls "$WORK"/"${SRC_PKG}"_*.dsc | head -n1)"
[ -f "$dsc" ] || die "apt-get source produced no .dsc"
ver="$(basename "$dsc" .dsc)"; ver="${ver#"${SRC_PKG}"_}"
(cd "$WORK" && dpkg-source --no-check -x "$(basename "$dsc")" src >/dev/null) \
    || die "dpkg-source -x failed"
SRC="$WORK/src"
patch -d "$SRC" -p1 --quiet <"$SCRIPT_DIR/libsrtp-gcm-evp.patch" || die "scripts/libsrtp-gcm-evp.patch does not apply"

# --------------------------------------------------------- configure + build
log "configuring with OpenSSL"
STAGE="$DEPS_DIR/srtp.stage"
rm -rf "$STAGE"
cd "$SRC"
[ -x ./configure ] || die "unexpected source layout: no ./configure in $SRC"
# Same extra flag as Debian's rules (-D_REENTRANT); -fPIC so the archive can
# also go into shared objects (e.g. fuzz/ASan harnesses); no pcap test tools.
CFLAGS="-O2 -g -fPIC -D_REENTRANT" ./configure --prefix="$PREFIX" \
    --enable-openssl --disable-pcap \
    >"$WORK/configure.log" 2>&1 || { tail -n 40 "$WORK/configure.log" >&2; die "configure failed"; }
grep -q '^#define OPENSSL 1' crypto/include/config.h \
    || die "configure did not enable OpenSSL (see $WORK/configure.log)"
log "building static library"
make -j"$(nproc)" libsrtp2.a >"$WORK/make.log" 2>&1 || { tail -n 40 "$WORK/make.log" >&2; die "make failed"; }
make install DESTDIR="$STAGE" >"$WORK/install.log" 2>&1 || { tail -n 40 "$WORK/install.log" >&2; die "make install failed"; }

# Install atomically-ish into PREFIX (staged under DESTDIR at the same prefix path).
rm -rf "$PREFIX"
mv "$STAGE$PREFIX" "$PREFIX"
rm -rf "$STAGE"
rm -f "$PREFIX"/lib/*.so* "$PREFIX"/lib/*.la 2>/dev/null || true
[ -f "$LIB" ] || die "install did not produce $LIB"
[ -f "$PREFIX/include/srtp2/srtp.h" ] || die "install did not produce $PREFIX/include/srtp2/srtp.h"

# ---------------------------------------------------------------- verify
log "verifying (scripts/check-srtp.c)"
CHECK_BIN="$DEPS_DIR/check-srtp"
cc -O1 -Wall -Wextra -I"$PREFIX/include" "$SCRIPT_DIR/check-srtp.c" "$LIB" -lcrypto -o "$CHECK_BIN"
"$CHECK_BIN" >&2 || die "check-srtp failed: libsrtp build is not usable (GCM needs OpenSSL)"

stamp_line "$ver" >"$STAMP"
rm -rf "$WORK"
log "installed $SRC_PKG $ver (OpenSSL) into $PREFIX"
