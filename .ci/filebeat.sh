#!/usr/bin/env bash
# Builds Filebeat (for the file sink's end-to-end test) if no cached binary
# exists, and prints the export line for it.
#
# Usage:  eval "$(bash .ci/filebeat.sh)"   # exports PIPELOG_FILEBEAT
#
# `go install` refuses github.com/elastic/beats/v7 because its go.mod has
# replace directives, so the module is downloaded through the module proxy,
# copied out of the (read-only) module cache and built in place. That takes
# about 4-5 minutes on 2 cores with CGO on; the binary (~100 MB) is cached
# under ${XDG_CACHE_HOME:-$HOME/.cache}/pipelog/ so later runs reuse it.
#
# Env: FILEBEAT_VERSION (default v7.17.29), PIPELOG_CACHE (default above).
# Diagnostics go to stderr; stdout carries only the export line.
set -euo pipefail

version="${FILEBEAT_VERSION:-v7.17.29}"
cache="${PIPELOG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pipelog}"
bin="$cache/filebeat-$version"

if [[ ! -x "$bin" ]]; then
	echo "filebeat: building $version into $bin (about 4-5 min on 2 cores)" >&2
	mkdir -p "$cache"
	json="$(go mod download -json "github.com/elastic/beats/v7@$version")"
	dir="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
	if [[ -z "$dir" || ! -d "$dir" ]]; then
		echo "filebeat: go mod download gave no module directory:" >&2
		printf '%s\n' "$json" >&2
		exit 1
	fi
	work="$(mktemp -d "${TMPDIR:-/tmp}/pipelog-filebeat-build.XXXXXX")"
	trap 'rm -rf "$work"' EXIT
	cp -R "$dir/." "$work/beats"
	chmod -R u+w "$work/beats"
	# Build into a temporary name and rename, so an interrupted build never
	# leaves a truncated binary that later runs would take for a good one.
	(cd "$work/beats" && CGO_ENABLED=1 GOFLAGS=-mod=mod go build -o "$bin.tmp" ./filebeat) >&2
	mv "$bin.tmp" "$bin"
	echo "filebeat: built $("$bin" version 2>/dev/null || echo "$bin")" >&2
fi
echo "export PIPELOG_FILEBEAT=$bin"
