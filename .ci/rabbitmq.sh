#!/usr/bin/env bash
# Makes sure RabbitMQ listens on 127.0.0.1:5672 for the streaming example's
# test (examples/streaming, guest/guest). If the port is closed, starts the
# machine's broker with `rabbitmq-server -detached` and waits up to
# RABBITMQ_WAIT seconds (default 60) for the port; then waits for the node
# to finish booting (rabbitmqctl await_startup) when rabbitmqctl is there.
#
# Usage: .ci/rabbitmq.sh          # exit 0 when the broker is reachable
# Env:   RABBITMQ_HOST (127.0.0.1), RABBITMQ_PORT (5672), RABBITMQ_WAIT (60)
set -euo pipefail

host="${RABBITMQ_HOST:-127.0.0.1}"
port="${RABBITMQ_PORT:-5672}"
wait_s="${RABBITMQ_WAIT:-60}"

port_open() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

if port_open; then
	echo "rabbitmq: already listening on $host:$port" >&2
	exit 0
fi

if ! command -v rabbitmq-server >/dev/null 2>&1; then
	# A fresh machine without the broker: Debian's package (installing it
	# may start it; the checks below cover both cases).
	echo "rabbitmq: not installed; installing Debian's rabbitmq-server" >&2
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server; } >&2 || {
		echo "rabbitmq: $host:$port is closed and rabbitmq-server could not be installed" >&2
		exit 1
	}
	if port_open; then
		echo "rabbitmq: listening on $host:$port after the install" >&2
		exit 0
	fi
fi

echo "rabbitmq: starting rabbitmq-server -detached" >&2
rabbitmq-server -detached >&2 || true # fails harmlessly if a node is already booting

deadline=$((SECONDS + wait_s))
until port_open; do
	if ((SECONDS >= deadline)); then
		echo "rabbitmq: $host:$port still closed after ${wait_s}s" >&2
		exit 1
	fi
	sleep 1
done

# The AMQP listener opens late in the boot, but wait for the node to report
# itself fully started when we can ask it.
if command -v rabbitmqctl >/dev/null 2>&1; then
	left=$((deadline - SECONDS))
	((left < 5)) && left=5
	timeout "$left" rabbitmqctl await_startup >/dev/null 2>&1 || true
fi
echo "rabbitmq: listening on $host:$port" >&2
