#!/usr/bin/env bash
# Herald quickstart: build Herald, create a channel, issue a token, and serve.
#
#   ./deploy/quickstart.sh [CHANNEL]
#
# Uses the embedded defaults: SQLite under ./data and a private redis-server that Herald
# starts on a unix socket there. Set HERALD_DOMAIN to your public host name (behind a TLS
# proxy, see README.md) for followers elsewhere to find the channel; by default Herald
# answers as localhost:8080, which is for trying it on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."

channel="${1:-news}"
export HERALD_DOMAIN="${HERALD_DOMAIN:-localhost:8080}"
export HERALD_LISTEN="${HERALD_LISTEN:-127.0.0.1:8080}"
scheme=https
case "$HERALD_DOMAIN" in
  # A local trial: ids are plain http, and debug mode lets Herald federate with servers
  # on this machine. Never on a public host name.
  localhost|localhost:*) scheme=http; export HERALD_DEBUG="${HERALD_DEBUG:-true}" ;;
esac

# What a fresh Debian machine lacks: redis-server (the queue), and OpenSSL's headers and
# pkg-config (to build). Installed with apt-get, through sudo when not root.
packages=()
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
dpkg -s libssl-dev >/dev/null 2>&1 || packages+=(libssl-dev)
command -v pkg-config >/dev/null 2>&1 || packages+=(pkg-config)
if [ "${#packages[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing ${packages[*]} …" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "Herald is built with Rust's cargo: install it from https://rustup.rs and run this again." >&2
  exit 1
fi

cargo build --release --locked --bin herald
herald=target/release/herald

if ! "$herald" channel show "$channel" >/dev/null 2>&1; then
  "$herald" channel create "$channel" --display-name "$channel" >/dev/null
fi
token=$("$herald" token issue "$channel")

cat <<MSG

  Herald is starting at http://$HERALD_LISTEN

  Channel:  @$channel@$HERALD_DOMAIN
  Token:    $token

  Post something:

    curl -X POST http://$HERALD_LISTEN/api/v1/channels/$channel/posts \\
      -H "Authorization: Bearer $token" \\
      -H "Content-Type: application/json" \\
      -d '{"text": "Hello, **fediverse**!"}'

  Channel page: $scheme://$HERALD_DOMAIN/@$channel   (Ctrl-C stops Herald)

MSG
exec "$herald" serve
