#!/usr/bin/env bash
# Installs VictoriaLogs if missing and starts it on 127.0.0.1 with a
# temporary data directory, for the Elasticsearch sink integration test.
#
# Usage:  eval "$(.ci/victorialogs.sh)"   # exports PIPELOG_VICTORIALOGS_URL
#         .ci/victorialogs.sh stop        # stops the instance started earlier
#
# Env: VICTORIALOGS_PORT (default 9428), GOBIN (default $(go env GOPATH)/bin),
#      VICTORIALOGS_VERSION (default v1.52.1).
# Everything diagnostic goes to stderr; stdout carries only the export line.
set -euo pipefail

port="${VICTORIALOGS_PORT:-9428}"
version="${VICTORIALOGS_VERSION:-v1.52.1}"
gobin="${GOBIN:-$(go env GOPATH)/bin}"
bin="$gobin/victoria-logs"
state="${TMPDIR:-/tmp}/pipelog-victorialogs-$port"

if [[ "${1:-}" == "stop" ]]; then
	if [[ -f "$state/pid" ]]; then
		kill "$(cat "$state/pid")" 2>/dev/null || true
		rm -rf "$state"
		echo "victorialogs: stopped" >&2
	fi
	exit 0
fi

if [[ ! -x "$bin" ]]; then
	echo "victorialogs: installing $version into $gobin (about 35 s)" >&2
	GOBIN="$gobin" CGO_ENABLED=0 go install "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$version" >&2
fi

url="http://127.0.0.1:$port"
if curl -fsS "$url/health" >/dev/null 2>&1; then
	echo "victorialogs: already listening on $url" >&2
else
	rm -rf "$state"
	mkdir -p "$state/data"
	nohup "$bin" -httpListenAddr="127.0.0.1:$port" -storageDataPath="$state/data" \
		-retentionPeriod=100y -futureRetention=1y -loggerLevel=WARN \
		>"$state/log" 2>&1 &
	echo $! >"$state/pid"
	for _ in $(seq 1 300); do
		if curl -fsS "$url/health" >/dev/null 2>&1; then
			break
		fi
		if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then
			echo "victorialogs: exited during start-up:" >&2
			cat "$state/log" >&2
			exit 1
		fi
		sleep 0.1
	done
	if ! curl -fsS "$url/health" >/dev/null 2>&1; then
		echo "victorialogs: not ready after 30 s" >&2
		cat "$state/log" >&2
		exit 1
	fi
	echo "victorialogs: pid $(cat "$state/pid") on $url, data in $state/data" >&2
fi
echo "export PIPELOG_VICTORIALOGS_URL=$url"
