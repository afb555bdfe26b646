# syntax=docker/dockerfile:1
# Build: a static binary (no cgo) with the migrations, the contract and the docs page embedded.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/pbudget ./cmd/pbudget

# Run: distroless static, as the unprivileged nonroot user (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/pbudget /usr/local/bin/pbudget
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/pbudget"]
CMD ["serve"]
