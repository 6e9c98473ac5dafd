# Build: docker build -t motcua .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin motcua

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /var/lib/motcua motcua \
 && mkdir -p /var/lib/motcua && chown motcua /var/lib/motcua
COPY --from=build /src/target/release/motcua /usr/local/bin/motcua
COPY config /etc/motcua
USER motcua
WORKDIR /var/lib/motcua
ENV MOTCUA__SERVER__BIND=0.0.0.0:8080 \
    MOTCUA__LOG__FORMAT=json \
    MOTCUA__CALENDAR__DIR=/etc/motcua/calendar
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["motcua"]
CMD ["serve"]
