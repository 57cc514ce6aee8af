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
# Native memory (issue 16; measured with bench/memory.ts, which starts the operator with exactly this ENV and these
# flags, parsed from this file): glibc malloc with at most 2 arenas (instead of 8 per core: each thread's arena
# keeps its own freed pages), allocations from 64 KiB up in their own mappings (returned to the system when freed
# instead of fragmenting the main arena: TLS records, zlib and HTTP buffers) and the top of the heap trimmed above
# 1 MiB. At 5,000 releases (bench/memory.ts, the chart's 768Mi) this took steady RSS from 300 to 288 MB at the same
# CPU time (thread arenas 32 → 21 MB).
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=65536 MALLOC_TRIM_THRESHOLD_=1048576
# The entrypoint imports the operator or the CLI in-process: node stays PID 1 and receives SIGTERM.
# The main V8 heap follows the container memory limit (Node reads the cgroup): 40 % of it; the operator gives SBOM
# analysis workers what is left after the main heap, the process overhead and a margin (operator/memory-budget.ts).
# The young generation grows with the heap: 32 MiB of new space under the chart's 768Mi (16 MiB semi-spaces), up to
# 128 MiB with larger limits or none; --max-semi-space-size=16 keeps it at 32 MiB whatever the limit.
ENTRYPOINT ["node", "--max-old-space-size-percentage=40", "--max-semi-space-size=16", "/app/bin/entrypoint.mjs"]
