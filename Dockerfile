# syntax=docker/dockerfile:1
# Redistill in a container: built with the Rust image, run on Debian slim as a non-root
# user. Configure it with REDISTILL_<SECTION>_<KEY> variables (REDIS_PASSWORD for the
# password) or a TOML file mounted at /etc/redistill/redistill.toml; the snapshot lives in
# the /data volume. See the README's "Running" section.

FROM rust:1.88-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin redistill

FROM debian:bookworm-slim
RUN groupadd --system --gid 999 redistill \
    && useradd --system --uid 999 --gid redistill --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin redistill \
    && mkdir -p /data /etc/redistill \
    && chown redistill:redistill /data
COPY --from=build /src/target/release/redistill /usr/local/bin/redistill
COPY redistill.example.toml /etc/redistill/redistill.example.toml
# Every address, as in a container clients come from elsewhere; protected mode would refuse
# them while no password is set, so set REDIS_PASSWORD (or requirepass) for anything
# reachable from outside. The snapshot is saved in /data on SIGTERM (docker stop).
ENV REDISTILL_SERVER_BIND="0.0.0.0" \
    REDISTILL_SERVER_PROTECTED_MODE="false" \
    REDISTILL_SERVER_HEALTH_CHECK_PORT="8080" \
    REDISTILL_PERSISTENCE_ENABLED="true" \
    REDISTILL_PERSISTENCE_SNAPSHOT_PATH="/data/dump.rsnap"
USER 999:999
WORKDIR /data
VOLUME ["/data"]
EXPOSE 6379 8080
# GET /health answers 200 when ready, 503 while the snapshot loads or after a failed save.
# bash's /dev/tcp: the slim image has no HTTP client to install.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/usr/local/bin/redistill"]
