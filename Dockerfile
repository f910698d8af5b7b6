# bpharness in a container: the binary alone, with the suite and schemas built in.
#
#   docker build -t bpharness .
#   docker run --rm bpharness run                       # the suite against the embedded server
#   docker run --rm -e BP_API_URL -e BP_TOKEN -e BP_WORKSPACE_ID -v "$PWD/reports:/home/nonroot/reports" bpharness run
#
# Stage 1 builds a release binary; stage 2 is distroless (glibc, CA certificates, no shell,
# user nonroot), so the image holds little more than bpharness itself.

FROM rust:1.95-slim-bookworm AS build
# aws-lc-sys (rustls' crypto) and mimalloc compile C: a C toolchain and cmake.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY scenarios ./scenarios
COPY schemas ./schemas
# No path of the build machine in the binary: sources and crates are named relative.
ENV RUSTFLAGS="--remap-path-prefix=/src=. --remap-path-prefix=/usr/local/cargo=cargo"
RUN cargo build --release --locked --bin bpharness \
    && install -D -m 0755 target/release/bpharness /out/bpharness

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/bpharness /usr/local/bin/bpharness
# 65532 is distroless's nonroot, by number so Kubernetes runAsNonRoot can check it.
USER 65532:65532
# Reports go to ./reports by default: the user's home, which it owns.
WORKDIR /home/nonroot
ENTRYPOINT ["bpharness"]
CMD ["--help"]
