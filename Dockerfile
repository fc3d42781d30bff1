# Builds the claimdesk server into a small image.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin claimdesk

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/claimdesk /usr/local/bin/claimdesk
WORKDIR /var/lib/claimdesk
ENV CLAIMDESK_LISTEN=0.0.0.0:8080 CLAIMDESK_DATA_DIR=/var/lib/claimdesk
EXPOSE 8080
ENTRYPOINT ["claimdesk"]
CMD ["serve"]
