#!/bin/sh
# Regenerates lib/wire/gen/frames_pb.ts from proto/frames.proto with Debian's protoc (package protobuf-compiler)
# and protoc-gen-es from node_modules. Run from anywhere: sh scripts/gen-proto.sh
set -eu
cd "$(dirname "$0")/.."
PROTOC="${PROTOC:-/usr/bin/protoc}"
if [ ! -x "$PROTOC" ]; then
  echo "gen-proto: $PROTOC not found; install it with: apt-get install -y protobuf-compiler" >&2
  exit 1
fi
"$PROTOC" \
  --plugin=protoc-gen-es=node_modules/.bin/protoc-gen-es \
  --es_out=lib/wire/gen \
  --es_opt=target=ts,import_extension=js \
  --proto_path=proto \
  proto/frames.proto
