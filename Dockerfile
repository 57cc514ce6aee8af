# The cra-gate image: the operator, and the offline CLI. Node 24 runs the TypeScript sources directly (type
# stripping, no build step). bin/entrypoint.mjs dispatches: no arguments, flags or `operator` → the operator;
# a CLI verb → the CLI, e.g.  docker run --rm -v "$PWD:/data" <image> evaluate /data/release.yaml --output sarif
#
#   docker build -t cra-gate:dev .                                   # official node:24 base
#   docker build --build-arg NODE_IMAGE=cra-gate/node-base:24 .      # any Node 24 image with npm
#
# Multi-stage: the first stage installs production dependencies only (npm ci --omit=dev, no lifecycle
# scripts); the runtime stage holds node, those node_modules and the sources the operator reads at runtime
# (bin/ entry points, operator/, crds/ for manifest validation, policies/ for the built-in rules and the baseline).
# It runs as a numeric non-root user (so Kubernetes' runAsNonRoot can verify it), writes nothing to its root
# filesystem (readOnlyRootFilesystem works), and node is PID 1 through the exec-form ENTRYPOINT: SIGTERM
# reaches the operator, which handles it itself (drain, release the Lease, exit 0).
ARG NODE_IMAGE=node:24-bookworm-slim

# Few instructions on purpose: with the vfs storage driver (CI) every step stores a full copy of the root filesystem.
FROM ${NODE_IMAGE} AS build
COPY package.json package-lock.json /app/
RUN ["npm", "ci", "--prefix", "/app", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=warn"]
# .dockerignore admits only package*.json, bin/*.mjs, operator/ (without tests), crds/ and policies/.
COPY . /app/
# The SBOM schema validators as precompiled Ajv standalone modules where the sources look for them
# (operator/sbom/schema-compile.ts): the runtime filesystem is read-only, so without this every CLI process in the
# image would compile the CycloneDX schema again (about a second of start-up).
RUN ["node", "--input-type=module", "-e", "const m = await import('/app/operator/sbom/schema-compile.ts'); m.writePrecompiled('/app/.cache/sbom-validators');"]

FROM ${NODE_IMAGE}
# Files stay owned by root: the operator cannot modify its own code even without a read-only root filesystem.
COPY --from=build /app /app
# Numeric uid/gid (the official image's "node" user is 1000): no passwd entry needed, never root.
USER 1000:1000
# Port 8080: /healthz, /readyz, /metrics (--metrics-bind). The CLI resolves relative paths against the working
# directory: /data, where users mount their files (docker run -v "$PWD:/data").
WORKDIR /data
# The entrypoint imports the operator or the CLI in-process: node stays PID 1 and receives SIGTERM.
# The main V8 heap follows the container memory limit (Node reads the cgroup): 40 % of it; the operator gives SBOM
# analysis workers what is left after the main heap, the process overhead and a margin (operator/memory-budget.ts).
ENTRYPOINT ["node", "--max-old-space-size-percentage=40", "/app/bin/entrypoint.mjs"]
