# syntax=docker/dockerfile:1
# The cra-gate operator image. Node 24 runs the TypeScript sources directly (type stripping, no build step).
#
#   docker build -t cra-gate:dev .                                   # official node:24 base
#   docker build --build-arg NODE_IMAGE=cra-gate/node-base:24 .      # any Node 24 image with npm
#
# Multi-stage: the first stage installs production dependencies only (npm ci --omit=dev, no lifecycle
# scripts); the runtime stage holds node, those node_modules and the sources the operator reads at runtime
# (operator/, crds/ for manifest validation, policies/rules for the built-in secure-defaults rules).
# It runs as a numeric non-root user (so Kubernetes' runAsNonRoot can verify it), writes nothing to its root
# filesystem (readOnlyRootFilesystem works), and node is PID 1 through the exec-form ENTRYPOINT: SIGTERM
# reaches the operator, which handles it itself (drain, release the Lease, exit 0).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN ["npm", "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=warn"]

FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="cra-gate" \
      org.opencontainers.image.description="Kubernetes operator that makes the EU Cyber Resilience Act a release gate" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/cra-gate/cra-gate"
ENV NODE_ENV=production \
    LOG_LEVEL=info \
    NODE_OPTIONS=--disable-warning=ExperimentalWarning
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY crds ./crds
COPY policies ./policies
COPY operator ./operator
# Numeric uid/gid (the official image's "node" user is 1000): no passwd entry needed, root never used.
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node", "operator/main.ts"]
