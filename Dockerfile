# Build: the SQLite and PostgreSQL client libraries are compiled in (bundled), so the
# runtime image needs nothing but the binary and CA certificates.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked && cp target/release/observer-desk /observer-desk

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/observer-desk --create-home observer-desk
COPY --from=build /observer-desk /usr/local/bin/observer-desk
USER observer-desk
WORKDIR /var/lib/observer-desk
ENV OBSERVER_DESK_DATA_DIR=/var/lib/observer-desk/data \
    OBSERVER_DESK_BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["observer-desk"]
