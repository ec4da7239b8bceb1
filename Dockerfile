# throng in a container: a static (musl) binary on a distroless base, run as a non-root user.
#   docker build -t throng:0.1.0 .
#   docker run --rm throng:0.1.0 version
# Used by `throng k8s render --image throng:0.1.0` (docs/kubernetes.md).
FROM rust:1-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p throng \
 && cp target/release/throng /throng \
 && strip /throng

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /throng /usr/local/bin/throng
# distroless's nonroot user; the manifests ask for it too (runAsUser: 65532)
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["/usr/local/bin/throng"]
CMD ["--help"]
