# syntax=docker/dockerfile:1
# Build: a static binary (no cgo) with the migrations, the contract, the docs page and the demo
# configuration embedded, stamped with its version and commit (pbudget --version, pbudget_build_info):
#
#   docker build --build-arg VERSION=$(git describe --tags --always) --build-arg COMMIT=$(git rev-parse HEAD) -t pbudget .
#
# (make docker does). The .git directory is not in the build context (.dockerignore), so the commit
# comes from the build argument, not from Go's VCS stamping.
#
# Base images are pinned by digest (the tag says what the image is, the digest which one it is);
# update both together. The digests are of the multi-platform image indexes:
#   golang:1.26.8-bookworm               sha256:9fdc884a…, the toolchain of go.mod
#   gcr.io/distroless/static-debian12:nonroot  sha256:d093aa3e…
# Check a digest before changing it: docker buildx imagetools inspect golang:1.26.8-bookworm
FROM golang:1.26.8-bookworm@sha256:9fdc884aacc3bec89b20ffc69f4bb369c78210e3e4f600387b5128b12c199f81 AS build
WORKDIR /src
ENV GOTOOLCHAIN=local
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
    -ldflags="-s -w -X github.com/pbudget/pbudget/internal/buildinfo.version=${VERSION} -X github.com/pbudget/pbudget/internal/buildinfo.commit=${COMMIT}" \
    -o /out/pbudget ./cmd/pbudget

# Run: distroless static, as the unprivileged nonroot user (uid 65532). No shell and no curl: the
# health check is the binary's own subcommand, asking /readyz on PB_LISTEN_ADDR over loopback.
FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="pbudget" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build /out/pbudget /usr/local/bin/pbudget
USER 65532:65532
# The API. Metrics listen on 127.0.0.1:9090 inside the container unless PB_METRICS_ADDR says
# otherwise (e.g. 0.0.0.0:9090 for a scraper on the container network); never publish that port.
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/pbudget", "healthcheck", "--timeout", "4s"]
ENTRYPOINT ["/usr/local/bin/pbudget"]
CMD ["serve"]
