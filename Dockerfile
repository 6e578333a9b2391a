# syntax=docker/dockerfile:1
# Charter's image: a static (musl) binary on a distroless, non-root base.
#   docker build -t ghcr.io/charter-dev/charter:v0.1.0 .
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends musl-tools \
    && rm -rf /var/lib/apt/lists/* \
    && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN cargo build --release --locked --target x86_64-unknown-linux-musl --bin charter \
    && cp target/x86_64-unknown-linux-musl/release/charter /charter

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /charter /charter
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/charter"]
CMD ["run"]
