# Shared by scripts/run, scripts/test and scripts/bench: installs what a fresh Debian
# machine lacks, then builds. Sourced, not run.

# The Debian packages each script needs, checked by a file they install.
need_packages() {
    local missing=()
    local pair package file
    for pair in "$@"; do
        package=${pair%%:*}
        file=${pair#*:}
        [[ -e $file ]] || missing+=("$package")
    done
    ((${#missing[@]} == 0)) && return 0
    echo "notionauth: installing ${missing[*]}" >&2
    local sudo=()
    [[ $(id -u) == 0 ]] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq >&2
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# A release binary with everything linked in: no Swift runtime or libsodium needed where
# it is copied, and no dynamic loader work at start-up (see the README's figures).
RELEASE_FLAGS=(-c release -Xswiftc -static-executable)

# notionauth-mcp cannot be fully static: the MCP SDK links Foundation's URLSession and so
# libcurl, which has no static build here. It is built with the Swift runtime linked in (the
# system's libc and libcurl stay shared), in a build folder of its own because the compiler
# flags differ from notionauth's.
MCP_RELEASE_FLAGS=(-c release --static-swift-stdlib --scratch-path .build-mcp)

release_binary() {
    swift build "${RELEASE_FLAGS[@]}" --show-bin-path
}

mcp_release_binary() {
    swift build "${MCP_RELEASE_FLAGS[@]}" --show-bin-path
}

# Only the shipped products: the fakes under Tests/ are built in debug, by the tests and
# scripts/bench, since they reach test-only internals.
build_release() {
    local product log
    # notionauth-mcp links the system's libcurl (see MCP_RELEASE_FLAGS).
    need_packages libcurl4-openssl-dev:/usr/bin/curl-config
    log=$(mktemp)
    # notionauth-postgres: what notionauth runs in its place for a postgres:// store.
    for product in notionauth make-bench-vault notionauth-mcp notionauth-postgres; do
        local flags=("${RELEASE_FLAGS[@]}")
        [[ $product == notionauth-mcp ]] && flags=("${MCP_RELEASE_FLAGS[@]}")
        if ! swift build "${flags[@]}" -q --product "$product" >"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            return 1
        fi
        # glibc's linker notes about static NSS/dlopen are expected for a static binary.
        grep -v -e 'in statically linked applications requires at runtime' -e 'the use of .mktemp. is dangerous' "$log" >&2 || true
    done
    rm -f "$log"
    # `notionauth mcp` runs notionauth-mcp from beside itself.
    ln -sf "$(mcp_release_binary)/notionauth-mcp" "$(release_binary)/notionauth-mcp"
}

# The Python packages the tests use as independent peers (scripts/test), installed from PyPI
# into .venv/ once; pinned so that a new release cannot change what the tests exercise.
PYTHON_PACKAGES=(mcp==1.26.0 jsonschema==4.25.1)

python_env() {
    local stamp=.venv/.notionauth-packages
    if [[ -f $stamp && $(cat "$stamp") == "${PYTHON_PACKAGES[*]}" ]]; then return 0; fi
    # Debian's python3 makes virtual environments only with python3-venv.
    python3 -c 'import ensurepip' 2>/dev/null || need_packages python3-venv:/usr/share/doc/python3-venv
    python3 -m venv .venv >&2
    .venv/bin/pip install -q --disable-pip-version-check "${PYTHON_PACKAGES[@]}" >&2
    echo "${PYTHON_PACKAGES[*]}" > "$stamp"
}
