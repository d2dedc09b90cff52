#!/usr/bin/env bash
# Idempotent set-up of a Rust toolchain that can build the kernel for wasm32.
#
# Writes .toolchain/env (sourced by scripts/build-wasm.sh and scripts/cargo.sh) with:
#   GG_CARGO   the cargo binary to call
#   GG_RUSTC   the rustc it must use
#   GG_CARGO_ARGS  extra --config arguments (a local crate source when crates.io is out of reach)
#
# Order of preference:
#   1. a rustup nightly with the rust-src component (a normal developer machine; crates from crates.io);
#   2. Debian's rustc-web / cargo-web / rust-web-src / lld-22 and librust-rayon-dev, with a local
#      directory source made of the std library's vendored crates and Debian's crate sources
#      (these machines reach only the npm and Debian registries); installed with apt when we are root;
#   3. otherwise stop and say exactly what to install.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tc="$here/.toolchain"
mkdir -p "$tc"

write_env() { # $1 cargo, $2 rustc, $3 extra args
  cat > "$tc/env" <<ENV
GG_CARGO='$1'
GG_RUSTC='$2'
GG_CARGO_ARGS='$3'
ENV
  echo "gradguard: Rust toolchain: $("$2" --version) ($1)"
}

# 1. rustup nightly with rust-src.
if [ -z "${GG_FORCE_DEBIAN:-}" ] && command -v rustup >/dev/null 2>&1 \
   && rustup +nightly component list --installed 2>/dev/null | grep -q '^rust-src'; then
  write_env "$(rustup +nightly which cargo)" "$(rustup +nightly which rustc)" ""
  exit 0
fi

# 2. Debian packages.
debs="rustc-web cargo-web rust-web-src lld-22 librust-rayon-dev"
have_debian() {
  [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] && ls -d /usr/src/rustc-*/library/vendor >/dev/null 2>&1 \
    && [ -d /usr/lib/rustlib/src ] && ls -d /usr/share/cargo/registry/rayon-1.* >/dev/null 2>&1 \
    && command -v rust-lld >/dev/null 2>&1 \
    && /usr/bin/rustc --version | grep -Eq '^rustc 1\.(8[5-9]|9[0-9]|[1-9][0-9][0-9])'
}
if ! have_debian; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "gradguard: installing Rust from Debian packages: $debs"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -qq $debs >/dev/null
  fi
fi
if ! have_debian; then
  cat >&2 <<MSG
gradguard: no Rust toolchain that can build for wasm32 was found.
Install one of:
  - rustup with a nightly toolchain and its std source:
        rustup toolchain install nightly --component rust-src
  - or, on Debian 12 (as root):
        apt-get install -y $debs
Then run npm install again.
MSG
  exit 1
fi

# Local directory source: std's vendored crates (for -Zbuild-std) plus Debian's crate sources.
vendor="$tc/vendor"
rm -rf "$vendor" && mkdir -p "$vendor"
for d in /usr/src/rustc-*/library/vendor/* /usr/share/cargo/registry/*; do
  [ -e "$vendor/$(basename "$d")" ] || ln -s "$d" "$vendor/$(basename "$d")"
done
write_env /usr/bin/cargo /usr/bin/rustc \
  "--config source.crates-io.replace-with=\"local\" --config source.local.directory=\"$vendor\""
