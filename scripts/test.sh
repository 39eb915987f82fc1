#!/usr/bin/env bash
# The whole test suite, every feature included. The Botica tests talk to a real RabbitMQ
# broker: if none listens on 127.0.0.1:5672, this starts Debian's rabbitmq-server (installing
# it first when it is missing and we are root), waits until it accepts connections, and stops
# it again at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

broker_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

started_broker=0
stop_broker() {
    if [ "$started_broker" = 1 ]; then
        echo "test.sh: stopping the RabbitMQ broker it started"
        rabbitmqctl stop >/dev/null 2>&1 || true
    fi
}
trap stop_broker EXIT

if ! broker_up; then
    if ! command -v rabbitmq-server >/dev/null 2>&1; then
        if [ "$(id -u)" != 0 ]; then
            echo "test.sh: the Botica tests need RabbitMQ: run 'sudo apt-get install rabbitmq-server' (or start a broker on 127.0.0.1:5672) and try again" >&2
            exit 1
        fi
        echo "test.sh: installing rabbitmq-server"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
    fi
    echo "test.sh: starting a RabbitMQ broker"
    rabbitmq-server -detached
    started_broker=1
    # The AMQP listener opens last in the broker's boot: once it accepts, the broker is ready.
    for _ in $(seq 1 120); do
        broker_up && break
        sleep 1
    done
    broker_up || { echo "test.sh: RabbitMQ did not accept connections on 127.0.0.1:5672 within 120 s" >&2; exit 1; }
fi
export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"

cargo test --workspace --all-features
