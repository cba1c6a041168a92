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
    # notionauth-postgres: what notionauth runs in its place for a postgres:// store;
    # notionauth-proxy: what it runs in its place for `run --proxy`.
    for product in notionauth make-bench-vault notionauth-mcp notionauth-postgres notionauth-proxy; do
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
# requests: a real client of `run --proxy` (urllib, the other, comes with Python);
# oidc-provider-mock: a third-party OpenID provider for the `issuer` discovery tests.
PYTHON_PACKAGES=(mcp==1.26.0 jsonschema==4.25.1 requests==2.32.3 oidc-provider-mock==0.3.4)

python_env() {
    local stamp=.venv/.notionauth-packages
    if [[ -f $stamp && $(cat "$stamp") == "${PYTHON_PACKAGES[*]}" ]]; then return 0; fi
    # Debian's python3 makes virtual environments only with python3-venv.
    python3 -c 'import ensurepip' 2>/dev/null || need_packages python3-venv:/usr/share/doc/python3-venv
    python3 -m venv .venv >&2
    .venv/bin/pip install -q --disable-pip-version-check "${PYTHON_PACKAGES[@]}" >&2
    echo "${PYTHON_PACKAGES[*]}" > "$stamp"
}

# A throwaway PostgreSQL server for the tests (scripts/test): a cluster of its own in a
# temporary directory, on a free loopback port, with password authentication, so that the
# store is tested against a real server and never against the machine's own cluster.
# Exports NOTIONAUTH_TEST_POSTGRES_URL (a role that may create databases, with a random
# password), _BIN (the server's programs), _DATA (the data directory), _USER (the OS user
# the server runs as, which pg_ctl must run as) and _CA (the certificate of its TLS, for
# sslrootcert). postgres_stop undoes it all.

# Debian installs the server programs off PATH, under /usr/lib/postgresql/<major>/bin.
postgres_bindir() {
    local dir
    dir=$(pg_config --bindir 2>/dev/null) && [[ -x $dir/initdb ]] && { echo "$dir"; return 0; }
    dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)
    [[ -x $dir/initdb ]] || { echo "notionauth: no PostgreSQL server programs (initdb) under /usr/lib/postgresql" >&2; return 1; }
    echo "$dir"
}

# Runs a command as the server's OS user: postgres refuses to run as root.
postgres_as() {
    local user=$1; shift
    if [[ $(id -u) == 0 ]]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

postgres_start() {
    need_packages postgresql:/usr/bin/pg_ctlcluster
    command -v python3 >/dev/null || need_packages python3:/usr/bin/python3
    local bin user dir password port attempt
    bin=$(postgres_bindir) || return 1
    if [[ $(id -u) == 0 ]]; then
        user=postgres
        # Debian's package creates this user; a system without one gets it here.
        id -u "$user" >/dev/null 2>&1 || useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$user"
    else
        user=$(id -un)
    fi
    # Under /tmp, not $TMPDIR: the server's user must reach it, and a unix socket path is
    # limited to about 100 bytes.
    dir=$(mktemp -d /tmp/notionauth-postgres.XXXXXX)
    chmod 0755 "$dir"
    [[ $user == "$(id -un)" ]] || chown "$user:" "$dir"
    password=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
    # Sockets only in the cluster's directory; the OS user administers it over them (peer),
    # everyone else comes over TCP with a password.
    if ! (cd "$dir" && postgres_as "$user" "$bin/initdb" -D "$dir/data" --auth-local=peer \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1); then
        cat "$dir/initdb.log" >&2
        echo "notionauth: initdb failed for the test PostgreSQL server in $dir" >&2
        rm -rf "$dir"
        return 1
    fi
    # The tests run up to 50 clients at once, several tests in parallel.
    postgres_as "$user" tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
CONF
    # TLS with a certificate made for this server only (for localhost), so that sslmode is
    # tested against a real handshake; NOTIONAUTH_TEST_POSTGRES_TLS=off starts one without.
    if [[ ${NOTIONAUTH_TEST_POSTGRES_TLS:-on} == on ]]; then
        need_packages openssl:/usr/bin/openssl
        if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
            -subj /CN=notionauth-test-postgres -addext subjectAltName=DNS:localhost \
            -keyout "$dir/data/server.key" -out "$dir/data/server.crt" >"$dir/openssl.log" 2>&1; then
            cat "$dir/openssl.log" >&2
            rm -rf "$dir"
            return 1
        fi
        [[ $user == "$(id -un)" ]] || chown "$user:" "$dir/data/server.key" "$dir/data/server.crt"
        chmod 0600 "$dir/data/server.key"
        cp "$dir/data/server.crt" "$dir/ca.crt"
        chmod 0644 "$dir/ca.crt"
        echo "ssl = on" | postgres_as "$user" tee -a "$dir/data/postgresql.conf" >/dev/null
    fi
    # A free port can be taken between picking it and binding it: try another.
    for attempt in 1 2 3; do
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        postgres_as "$user" sed -i "/^port = /d" "$dir/data/postgresql.conf"
        echo "port = $port" | postgres_as "$user" tee -a "$dir/data/postgresql.conf" >/dev/null
        postgres_ctl "$bin" "$dir/data" "$user" start >/dev/null 2>&1 && break
        port=
    done
    if [[ -z $port ]] || ! postgres_wait "$bin" "$dir" "$port"; then
        cat "$dir/server.log" >&2 2>/dev/null
        echo "notionauth: the test PostgreSQL server in $dir did not start (log above)" >&2
        (cd "$dir" && postgres_as "$user" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1) || true
        rm -rf "$dir"
        return 1
    fi
    # Not a superuser: what the store needs must work for an ordinary role. The password
    # goes through standard input, never argv.
    if ! (cd "$dir" && postgres_as "$user" "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -d postgres >/dev/null) <<SQL
CREATE ROLE notionauth_test LOGIN CREATEDB PASSWORD '$password';
SQL
    then
        echo "notionauth: could not create the test role in the PostgreSQL server in $dir" >&2
        (cd "$dir" && postgres_as "$user" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1) || true
        rm -rf "$dir"
        return 1
    fi
    export NOTIONAUTH_TEST_POSTGRES_URL="postgres://notionauth_test:$password@127.0.0.1:$port/postgres"
    export NOTIONAUTH_TEST_POSTGRES_BIN=$bin
    export NOTIONAUTH_TEST_POSTGRES_DATA=$dir/data
    export NOTIONAUTH_TEST_POSTGRES_USER=$user
    # The certificate to trust (sslrootcert) when the server has TLS; empty when not.
    NOTIONAUTH_TEST_POSTGRES_CA=
    [[ -f $dir/ca.crt ]] && NOTIONAUTH_TEST_POSTGRES_CA=$dir/ca.crt
    export NOTIONAUTH_TEST_POSTGRES_CA
}

# pg_ctl start, stop or restart (fast shutdown; waits up to 30 s) for the cluster in DATA.
# The server outlives its caller, so it must not inherit the caller's descriptors: a caller
# waiting for one of them to close (Foundation's Process does) would wait forever.
postgres_ctl() {
    local bin=$1 data=$2 user=$3 action=$4 fd
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
        done
        cd "${data%/data}"
        case $action in
            start) postgres_as "$user" "$bin/pg_ctl" -D "$data" -l "${data%/data}/server.log" -w -t 30 start ;;
            restart) postgres_as "$user" "$bin/pg_ctl" -D "$data" -l "${data%/data}/server.log" -m fast -w -t 30 restart ;;
            stop) postgres_as "$user" "$bin/pg_ctl" -D "$data" -m fast -w -t 30 stop ;;
        esac
    )
}

# Waits, up to 30 s, until the server on PORT accepts connections.
postgres_wait() {
    local bin=$1 dir=$2 port=$3 tries
    for ((tries = 0; tries < 60; tries++)); do
        "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -t 1 && return 0
        sleep 0.5
    done
    echo "notionauth: PostgreSQL on 127.0.0.1:$port did not accept connections within 30 s" >&2
    return 1
}

# Stops the server postgres_start started and removes its directory; safe to call twice,
# and when a test left the server stopped.
postgres_stop() {
    local data=${NOTIONAUTH_TEST_POSTGRES_DATA:-}
    [[ -n $data ]] || return 0
    local dir=${data%/data}
    if [[ -f $data/postmaster.pid ]]; then
        postgres_ctl "$NOTIONAUTH_TEST_POSTGRES_BIN" "$data" "$NOTIONAUTH_TEST_POSTGRES_USER" stop >/dev/null 2>&1 ||
            echo "notionauth: could not stop the test PostgreSQL server in $dir" >&2
    fi
    [[ $dir == /tmp/notionauth-postgres.* ]] && rm -rf "$dir"
    unset NOTIONAUTH_TEST_POSTGRES_URL NOTIONAUTH_TEST_POSTGRES_BIN NOTIONAUTH_TEST_POSTGRES_DATA NOTIONAUTH_TEST_POSTGRES_USER
    return 0
}
