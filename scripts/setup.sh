#!/usr/bin/env bash
# One-shot, idempotent developer/CI set-up for the SFU media worker.
#
#   bash scripts/setup.sh          (from any cwd)
#   bash scripts/setup.sh --e2e    (also the end-to-end media test dependencies, step 4)
#   bash scripts/setup.sh --runtime   (only what a built node needs to run: the
#                                  Dockerfile's runtime stage; see below)
#
# 1. installs missing Debian packages (apt-get update only if something is missing;
#    redis-server is for the controller's cluster-mode tests and coturn for its
#    TURN relay test: each test starts its own on a free loopback port, nothing
#    relies on a system service; Debian leaves coturn's disabled)
# 2. builds libsrtp2 from Debian's source package with OpenSSL into
#    build/deps/srtp (scripts/build-libsrtp.sh)
# 3. installs node-controller/ npm dependencies without running install
#    scripts (mediasoup's postinstall would fetch/build its own worker)
# 4. only with --e2e (or SFU_SETUP_E2E=1): Debian's chromium and ffmpeg, and
#    the npm packages of tests/e2e/ (mediasoup-client, esbuild, playwright-core,
#    werift) with install scripts disabled; Playwright drives /usr/bin/chromium
#    and never downloads a browser (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1)
#
# --runtime does none of that: it installs RUNTIME_APT_PACKAGES (the shared
# libraries build/sfu-worker links; node-controller/test/packaging.test.ts
# checks the list against `ldd build/sfu-worker`) and the controller's
# production npm packages (npm ci --omit=dev, install scripts disabled), for
# a machine or image that gets a worker built elsewhere.
#
# A second run with everything in place does no network access and takes
# about a second.  Uses sudo only when not root.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WITH_E2E="${SFU_SETUP_E2E:-0}"
RUNTIME=0
for arg in "$@"; do
    case "$arg" in
        --e2e) WITH_E2E=1 ;;
        --runtime) RUNTIME=1 ;;
        *) printf '[setup] unknown argument: %s (usage: setup.sh [--e2e | --runtime])\n' "$arg" >&2; exit 2 ;;
    esac
done
[ "$RUNTIME" = 0 ] || [ "$WITH_E2E" = 0 ] || { printf '[setup] --runtime and --e2e do not go together\n' >&2; exit 2; }
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
START=$(date +%s)

APT_PACKAGES=(
    build-essential pkg-config
    libuv1-dev libssl-dev libusrsctp-dev libcmocka-dev
    flatbuffers-compiler
    clang libclang-rt-14-dev          # clang + libFuzzer/ASan/UBSan runtimes
    valgrind
    dpkg-dev                          # apt-get source / dpkg-source (libsrtp2)
    iproute2 util-linux               # ip netns + unshare (loopback-only test netns)
    openssl ca-certificates
    redis-server                      # cluster-mode tests start their own on loopback
    coturn                            # the TURN relay test starts its own turnserver on loopback
)
# What build/sfu-worker needs at run time (libsrtp2 is linked statically).
RUNTIME_APT_PACKAGES=(
    libuv1 libssl3 libusrsctp2 ca-certificates
)

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
SUMMARY=()
note() { SUMMARY+=("$*"); }

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
else
    command -v sudo >/dev/null || die "not root and sudo is not installed"
    SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive

# Print the names of the given packages that are not fully installed.
missing_packages() {
    local p status
    for p in "$@"; do
        status="$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)"
        case "$status" in
            ii*) ;;                  # installed
            *) printf '%s\n' "$p" ;; # not installed / half-installed / unknown
        esac
    done
}

APT_UPDATED=0
apt_install() {
    [ "$#" -gt 0 ] || return 0
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    log "apt-get install: $*"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "$@" >/dev/null
    local still
    still="$(missing_packages "$@")"
    [ -z "$still" ] || die "packages still missing after apt-get install: $(echo $still)"
}

# ------------------------------------------------------------ --runtime
if [ "$RUNTIME" = 1 ]; then
    mapfile -t MISSING < <(missing_packages "${RUNTIME_APT_PACKAGES[@]}")
    if [ "${#MISSING[@]}" -gt 0 ]; then
        apt_install "${MISSING[@]}"
        note "apt: installed ${MISSING[*]}"
    else
        note "apt: runtime packages already installed (${RUNTIME_APT_PACKAGES[*]})"
    fi
    # Lists this run fetched are not kept (an image layer stays small).
    [ "$APT_UPDATED" -eq 0 ] || "${SUDO[@]}" rm -rf /var/lib/apt/lists/*
    NODE_DIR="$REPO_ROOT/node-controller"
    [ -f "$NODE_DIR/package-lock.json" ] || die "node-controller/package-lock.json is missing"
    command -v npm >/dev/null || die "npm not found (Node 20 is needed)"
    log "npm ci --omit=dev in node-controller/"
    (cd "$NODE_DIR" && MEDIASOUP_WORKER_BIN=/nonexistent npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) \
        || die "npm ci --omit=dev in node-controller/ failed"
    note "npm: production packages of node-controller/ (install scripts skipped)"
    printf '\n[setup] --runtime done in %ss\n' "$(( $(date +%s) - START ))"
    for s in "${SUMMARY[@]}"; do printf '  - %s\n' "$s"; done
    exit 0
fi

# ------------------------------------------------------------ 1. apt packages
mapfile -t MISSING < <(missing_packages "${APT_PACKAGES[@]}")
if [ "${#MISSING[@]}" -gt 0 ]; then
    apt_install "${MISSING[@]}"
    note "apt: installed ${MISSING[*]}"
else
    note "apt: all ${#APT_PACKAGES[@]} packages already installed"
fi

# ----------------------------------------------------------- 2. libsrtp2
srtp_before="$(cat "$REPO_ROOT/build/deps/srtp/.stamp" 2>/dev/null || true)"
bash "$SCRIPT_DIR/build-libsrtp.sh"
srtp_after="$(cat "$REPO_ROOT/build/deps/srtp/.stamp" 2>/dev/null || true)"
if [ "$srtp_before" = "$srtp_after" ]; then
    note "libsrtp2: up to date in build/deps/srtp (${srtp_after})"
else
    note "libsrtp2: built (${srtp_after}) into build/deps/srtp"
fi

# ------------------------------------------------------------ 3. npm deps
NODE_DIR="$REPO_ROOT/node-controller"
if [ -f "$NODE_DIR/package.json" ]; then
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        # The machine image normally ships Node 20; Debian's nodejs is a fallback.
        log "node/npm not found; installing Debian's nodejs + npm"
        apt_install nodejs npm
        note "apt: installed nodejs npm (fallback)"
    fi
    LOCK="$NODE_DIR/package-lock.json"
    MARK="$NODE_DIR/node_modules/.sfu-setup-stamp"
    need=0
    if [ ! -d "$NODE_DIR/node_modules" ] || [ ! -f "$MARK" ]; then
        need=1
    elif [ "$NODE_DIR/package.json" -nt "$MARK" ]; then
        need=1
    elif [ -f "$LOCK" ] && [ "$LOCK" -nt "$MARK" ]; then
        need=1
    fi
    if [ "$need" -eq 1 ]; then
        # Never let mediasoup's postinstall fetch or build its own worker.
        export MEDIASOUP_WORKER_BIN=/nonexistent
        NPM_FLAGS=(--ignore-scripts --no-audit --no-fund --loglevel=error)
        npm_log="$(mktemp)"
        run_npm() {  # run_npm <args...>: npm in node-controller/, output to $npm_log
            (cd "$NODE_DIR" && npm "$@" "${NPM_FLAGS[@]}") >"$npm_log" 2>&1
        }
        [ -f "$LOCK" ] || die "node-controller/package-lock.json is missing: installs must come from the committed lockfile"
        npm_cmd=ci
        log "npm ci in node-controller/"
        # The lockfile records every platform's optional packages (regenerate
        # it with `npm install --package-lock-only`); npm ci installs exactly it.
        run_npm ci || { cat "$npm_log" >&2; rm -f "$npm_log"; die "npm ci in node-controller/ failed (see above)"; }
        rm -f "$npm_log"
        touch "$MARK"
        note "npm: $npm_cmd done in node-controller/ (mediasoup $(node -p 'require("'"$NODE_DIR"'/node_modules/mediasoup/package.json").version' 2>/dev/null || echo '?'), install scripts skipped)"
    else
        note "npm: node_modules up to date"
    fi
    # The lockfile must only point at the npm registry (or at nothing: npm then
    # uses the configured registry).
    if [ -f "$LOCK" ]; then
        bad="$(grep -o '"resolved": *"[^"]*"' "$LOCK" \
               | grep -v '"https://registry\.npmjs\.org/' || true)"
        [ -z "$bad" ] || die "package-lock.json has non-registry tarball URLs: $(echo "$bad" | head -3)"
    fi
fi

# ----------------------------------------------- 4. e2e test deps (optional)
if [ "$WITH_E2E" = 1 ]; then
    E2E_APT=(chromium ffmpeg)
    mapfile -t MISSING < <(missing_packages "${E2E_APT[@]}")
    if [ "${#MISSING[@]}" -gt 0 ]; then
        apt_install "${MISSING[@]}"
        note "e2e apt: installed ${MISSING[*]}"
    else
        note "e2e apt: chromium and ffmpeg already installed"
    fi
    E2E_DIR="$REPO_ROOT/tests/e2e"
    E2E_LOCK="$E2E_DIR/package-lock.json"
    E2E_MARK="$E2E_DIR/node_modules/.sfu-setup-stamp"
    if [ ! -f "$E2E_MARK" ] || [ "$E2E_DIR/package.json" -nt "$E2E_MARK" ] \
       || { [ -f "$E2E_LOCK" ] && [ "$E2E_LOCK" -nt "$E2E_MARK" ]; }; then
        export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
        e2e_log="$(mktemp)"
        e2e_npm() { (cd "$E2E_DIR" && npm "$@" --ignore-scripts --no-audit --no-fund --loglevel=error) >"$e2e_log" 2>&1; }
        log "npm ci in tests/e2e/"
        e2e_npm ci || { cat "$e2e_log" >&2; rm -f "$e2e_log"; die "npm ci in tests/e2e/ failed (see above)"; }
        rm -f "$e2e_log"
        touch "$E2E_MARK"
        note "e2e npm: installed tests/e2e/ packages (install scripts skipped)"
    else
        note "e2e npm: tests/e2e/node_modules up to date"
    fi
    if [ -f "$E2E_LOCK" ]; then
        bad="$(grep -o '"resolved": *"[^"]*"' "$E2E_LOCK" | grep -v '"https://registry\.npmjs\.org/' || true)"
        [ -z "$bad" ] || die "tests/e2e/package-lock.json has non-registry tarball URLs: $(echo "$bad" | head -3)"
    fi
fi

# ------------------------------------------------------------------ summary
printf '\n[setup] done in %ss\n' "$(( $(date +%s) - START ))"
for s in "${SUMMARY[@]}"; do printf '  - %s\n' "$s"; done
cat <<EOM
  - worker build flags: -I$REPO_ROOT/build/deps/srtp/include
                        $REPO_ROOT/build/deps/srtp/lib/libsrtp2.a -lcrypto
EOM
