#!/bin/sh
# Installs the Debian packages chute builds and tests with, if any is
# missing.  Without root it only reports what is missing.
set -e
pkgs="build-essential pkg-config libev-dev liblz4-dev zlib1g-dev libsnappy-dev
      libzstd-dev libprotobuf-c-dev libssl-dev openssl
      protobuf-c-compiler libcmocka-dev librdkafka-dev kcat python3-kafka
      curl strace valgrind python3-lz4 python3-snappy python3-zstandard clang libclang-rt-14-dev
      openjdk-17-jdk-headless maven
      python3-dev python3-venv python3-pip python3-setuptools python3-wheel
      python3-pytest python3-confluent-kafka"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages:$missing (run 'make deps' as root)" >&2
    exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
